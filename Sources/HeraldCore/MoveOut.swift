/// Moves `value` out, leaving `empty` in its place. A swap: the moved value is neither retained
/// nor released, where a copy followed by the source's destruction would do both (per field and
/// per message on the publish path).
@inlinable @inline(__always)
public func moveOut<T>(_ value: inout T, leaving empty: T) -> T {
    var moved = empty
    swap(&moved, &value)
    return moved
}
