import ArgumentParser
import FilterPolicy
import Foundation
import HeraldCore

/// `herald policy …`: filter-policy tools.
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Filter-policy tools.",
        subcommands: [PolicyTestCommand.self]
    )
}

/// `herald policy test`: validate a policy as SNS does and evaluate it against a message, or run a
/// file of conformance cases.
struct PolicyTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Check a filter policy against a message, or run a file of policy cases.",
        discussion: """
            Single check: prints `match` or `no match` (with the reason). Exit status: 0 match, \
            1 no match, 2 invalid policy (the SNS error text is printed).
            A message for MessageAttributes scope is {"attributes": {"NAME": {"Type": "String", "Value": "..."}}}; \
            for MessageBody scope {"body": "..."}, or the raw body itself with --raw-body.
            Each of --policy, --message and --cases names a file if one exists at that path, \
            otherwise it is the JSON text itself.
            --cases FILE reads a JSON array of cases in the conformance format and prints one JSON \
            line per case, then `N passed, N failed`; exit status 1 if any case differs from its expect.
            """
    )

    @Option(help: "The filter policy: a file path or JSON text.")
    var policy: String?

    @Option(help: "FilterPolicyScope: MessageAttributes (default) or MessageBody.")
    var scope: String = FilterPolicyScope.messageAttributes.rawValue

    @Option(help: "The message: a file path or JSON text (see the discussion).")
    var message: String?

    @Flag(name: .customLong("raw-body"), help: "Treat --message as the raw message body (MessageBody scope).")
    var rawBody = false

    @Option(help: "SNS API whose error prefix to print: SetSubscriptionAttributes (default) or Subscribe.")
    var api: String = SNSAPI.setSubscriptionAttributes.rawValue

    @Option(help: "A JSON file (or text) holding an array of conformance-format cases.")
    var cases: String?

    func validate() throws {
        if cases != nil {
            guard policy == nil, message == nil else {
                throw ValidationError("--cases cannot be combined with --policy or --message")
            }
        } else if policy == nil || message == nil {
            throw ValidationError("give --policy and --message, or --cases")
        }
        guard SNSAPI(rawValue: api) != nil else {
            throw ValidationError("--api must be SetSubscriptionAttributes or Subscribe")
        }
    }

    func run() throws {
        if let cases {
            try runCases(try PolicyArgument.bytes(cases))
        } else if let policy, let message {
            try runSingle(policy: try PolicyArgument.bytes(policy), message: try PolicyArgument.bytes(message, rawBody: rawBody))
        }
    }

    private func runSingle(policy policyBytes: [UInt8], message messageBytes: [UInt8]) throws {
        let snsAPI = SNSAPI(rawValue: api) ?? .setSubscriptionAttributes
        let policyScope: FilterPolicyScope
        do {
            policyScope = try FilterPolicyScope(snsValue: scope)
        } catch {
            print(error.message(api: snsAPI))
            throw ExitCode(2)
        }
        let filterPolicy: FilterPolicy
        do {
            filterPolicy = try FilterPolicy.parse(utf8: policyBytes, scope: policyScope)
        } catch {
            print(error.message(api: snsAPI))
            if let hint = PolicySyntaxHint.line(for: error) { print(hint) }
            throw ExitCode(2)
        }
        let input = try PolicyArgument.input(messageBytes, scope: policyScope, rawBody: rawBody)
        if let reason = ReferenceEvaluator.explain(filterPolicy, input) {
            print("no match")
            print("reason: \(reason)")
            throw ExitCode(1)
        }
        print("match")
    }

    private func runCases(_ bytes: [UInt8]) throws {
        let list: [PolicyCase]
        do {
            list = try PolicyCase.decodeList(
                try FilterPolicy.parseJSON(bytes, maxDepth: FilterPolicy.hardMaxNestingDepth + 8))
        } catch {
            throw ValidationError("cannot read the cases: \(error.reason)")
        }
        var passed = 0
        var failed = 0
        for policyCase in list {
            let result = policyCase.runCompiled()
            if result.passed { passed += 1 } else { failed += 1 }
            let error = result.error.map { JSONValue.quoted($0.reason) } ?? "null"
            print(#"{"id": \#(JSONValue.quoted(policyCase.id)), "result": "\#(result.outcome.rawValue)", "error": \#(error)}"#)
        }
        print("\(passed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(1) }
    }
}

/// Reading `--policy`/`--message`/`--cases` arguments and turning a message into `FilterInput`.
enum PolicyArgument {
    /// The file's bytes when `argument` names an existing file, else the argument's own UTF-8. A
    /// value that looks like a path (`looksLikePath`) but names no file is "file not found", not
    /// text to parse as JSON; with `rawBody` (any text is a body) only one with a `/` is.
    static func bytes(_ argument: String, rawBody: Bool = false) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) {
            guard !isDirectory.boolValue else { throw ValidationError("\(argument) is a directory, not a file") }
            do {
                return [UInt8](try Data(contentsOf: URL(fileURLWithPath: argument)))
            } catch {
                throw ValidationError("cannot read \(argument): \(error.localizedDescription)")
            }
        }
        if rawBody ? argument.contains("/") && looksLikePath(argument) : looksLikePath(argument) {
            throw ValidationError("file not found: \(argument)")
        }
        return Array(argument.utf8)
    }

    /// A single word that is not JSON and has a `/` or ends in a file extension (`msg.json`,
    /// `./policy`, `cases/a.txt`): `1.5`, `true`, `{…}` and `"…"` are not paths.
    static func looksLikePath(_ text: String) -> Bool {
        guard let first = text.first, !"{[\"".contains(first), !text.contains(where: \.isWhitespace) else { return false }
        if text.contains("/") { return true }
        guard let dot = text.lastIndex(of: "."), dot != text.startIndex else { return false }
        let suffix = text[text.index(after: dot)...]
        guard let head = suffix.first, head.isASCII, head.isLetter, suffix.count <= 8 else { return false }
        return suffix.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }

    /// `{"attributes": {…}}` for MessageAttributes scope; `{"body": "…"}` (or the raw body) for
    /// MessageBody scope.
    static func input(_ bytes: [UInt8], scope: FilterPolicyScope, rawBody: Bool) throws -> FilterInput {
        if rawBody {
            guard scope == .messageBody else { throw ValidationError("--raw-body needs --scope MessageBody") }
            return .body(bytes)
        }
        let json: JSONValue
        do {
            json = try FilterPolicy.parseJSON(bytes, maxDepth: FilterInput.maxBodyNestingDepth)
        } catch {
            throw ValidationError("the message is not valid JSON (\(error.reason)); use --raw-body for a raw body")
        }
        switch scope {
        case .messageAttributes:
            guard let attributes = json["attributes"] else {
                throw ValidationError(#"a MessageAttributes message needs {"attributes": {"NAME": {"Type": ..., "Value": ...}}}"#)
            }
            do {
                return .attributes(try PolicyCase.decodeAttributes(attributes))
            } catch {
                throw ValidationError(error.reason)
            }
        case .messageBody:
            switch json["body"] {
            case .string(let text)?: return .body(Array(text.utf8))
            case let value?: return .body(Array(value.text.utf8))
            case nil: throw ValidationError(#"a MessageBody message needs {"body": "..."} (or use --raw-body)"#)
            }
        }
    }
}
