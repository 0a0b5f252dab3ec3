import FilterPolicy
import HeraldCore

/// The one place the config loader asks the filter-policy language whether a policy is valid, so
/// inline and file policies get exactly the checks (and SNS reason texts) the protocol applies.
enum ConfigPolicyValidation {
    struct Rejection: Error {
        /// SNS's reason text (e.g. "Filter policy is too complex").
        var reason: String
        /// 1-based line inside the policy text, when the parser knows it (JSON syntax errors).
        var line: Int?
    }

    static func parse(_ text: String, scope: FilterPolicyScope, limits: FilterPolicyLimits) -> Result<FilterPolicy, Rejection> {
        do {
            return .success(try FilterPolicy.parse(text, scope: scope, limits: limits))
        } catch {
            return .failure(Rejection(reason: error.reason, line: error.location?.line))
        }
    }
}
