import CFilterScan

/// Skipping what no policy names: validating, allocation-free and fast, since most of a large body
/// usually goes through here (e.g. coordinate arrays). The work is CFilterScan's (C, so the
/// coordinate runs can be validated 64 bytes at a time with SIMD masks); it accepts exactly what
/// the Swift skipper it replaced accepted (`ReferenceSkipper` in the tests keeps that one, and the
/// differential tests hold the two together).

/// Skips (and validates) one JSON object or array starting at `start`; returns the position after
/// it, or nil when it is invalid. `openDepth` containers are already open around it (the depth
/// bound counts them).
@inlinable
func skipJSONComposite(_ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>, openDepth: Int) -> UnsafePointer<UInt8>? {
    let after = cfs_skip_json_value(start, Int64(end - start), 0, Int32(truncatingIfNeeded: maxJSONDepth &- openDepth))
    return after < 0 ? nil : start + Int(after)
}
