// HeraldClient: placeholder until its first real file lands; see docs/ARCHITECTURE.md.
enum HeraldClientModule {}
