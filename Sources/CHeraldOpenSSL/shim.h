// The system OpenSSL (libssl-dev), plus static inline wrappers for the function-like macros
// and SSL_OP_* constants that the Swift importer cannot see. No logic lives here.
#ifndef CHERALD_OPENSSL_SHIM_H
#define CHERALD_OPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <openssl/evp.h>

static inline int cherald_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}
static inline long cherald_ctx_set_mode(SSL_CTX *ctx, long mode) { return SSL_CTX_set_mode(ctx, mode); }
static inline void cherald_ctx_set_read_ahead(SSL_CTX *ctx, int yes) { SSL_CTX_set_read_ahead(ctx, yes); }
static inline uint64_t cherald_op_ignore_unexpected_eof(void) { return SSL_OP_IGNORE_UNEXPECTED_EOF; }
static inline uint64_t cherald_op_no_compression(void) { return SSL_OP_NO_COMPRESSION; }
static inline uint64_t cherald_op_no_renegotiation(void) { return SSL_OP_NO_RENEGOTIATION; }
static inline long cherald_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}
#endif
