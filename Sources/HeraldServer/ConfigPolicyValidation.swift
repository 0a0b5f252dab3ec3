import FilterPolicy
import Foundation
import HeraldCore

/// The one place the config loader asks the filter-policy language whether a policy is valid.
enum ConfigPolicyValidation {
    struct Rejection: Error {
        /// SNS's reason text.
        var reason: String
        /// 1-based line inside the policy text, when the parser knows it.
        var line: Int?
    }

    // TEMPORARY stand-in until branch filter-lang (FilterPolicy.parse) is merged: checks JSON
    // syntax only. Replaced by a call to FilterPolicy.parse.
    static func parse(_ text: String, scope: FilterPolicyScope, limits: FilterPolicyLimits) -> Result<FilterPolicy, Rejection> {
        guard text.utf8.count <= limits.maxPolicyBytes else { return .failure(Rejection(reason: "Filter policy is too large", line: nil)) }
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)), object is [String: Any] else {
            return .failure(Rejection(reason: "failed to parse JSON.", line: nil))
        }
        return .success(FilterPolicy(scope: scope, root: PolicyConjunction(keys: [])))
    }
}
