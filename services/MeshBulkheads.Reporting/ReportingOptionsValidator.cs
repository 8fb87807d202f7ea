using Microsoft.Extensions.Options;

namespace MeshBulkheads.Reporting;

/// <summary>Checks what attributes alone cannot: the address and the relation between the budgets.</summary>
public sealed class ReportingOptionsValidator : IValidateOptions<ReportingOptions>
{
    public ValidateOptionsResult Validate(string? name, ReportingOptions options)
    {
        var failures = new List<string>();
        if (!Uri.TryCreate(options.PaymentsAddress, UriKind.Absolute, out var address) || (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps))
        {
            failures.Add($"Reporting:PaymentsAddress '{options.PaymentsAddress}' must be an absolute http:// or https:// URI, e.g. http://127.0.0.1:8081.");
        }

        if (options.MinDownstreamBudget >= options.DefaultDownstreamTimeout)
        {
            failures.Add($"Reporting:MinDownstreamBudget ({options.MinDownstreamBudget}) must be below Reporting:DefaultDownstreamTimeout ({options.DefaultDownstreamTimeout}), or calls without a deadline could never start.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
