import ArgumentParser
import HeraldCore

/// `--format` of the list commands: JSON lines for scripts (the default), an aligned table for people.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case json
    case table
}

/// Rows of a list command, printed as JSON lines (one object per row, keys in column order) or as
/// a table (a header of the column titles, columns padded to their widest cell).
struct Listing: Sendable {
    struct Column: Sendable {
        /// The JSON key (SNS's member name where there is one).
        var key: String
        /// The table header.
        var title: String
    }

    var columns: [Column]
    var rows: [[String]]

    func lines(_ format: OutputFormat) -> [String] {
        switch format {
        case .json:
            return rows.map { row in
                JSONValue.object(zip(columns, row).map { .init(key: $0.key, value: .string($1)) }).text
            }
        case .table:
            let table = [columns.map(\.title)] + rows
            let widths = columns.indices.map { index in table.map { $0.indices.contains(index) ? $0[index].count : 0 }.max() ?? 0 }
            return table.map { row in
                row.enumerated().map { index, cell in
                    index == row.count - 1 ? cell : cell + String(repeating: " ", count: max(0, widths[index] - cell.count))
                }.joined(separator: "  ")
            }
        }
    }

    func print(_ format: OutputFormat) {
        for line in lines(format) { Terminal.out(line) }
    }
}
