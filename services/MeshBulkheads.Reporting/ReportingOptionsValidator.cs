using Microsoft.Extensions.Options;

namespace MeshBulkheads.Reporting;

/// <summary>Checks what attributes alone cannot: the payments address.</summary>
public sealed class ReportingOptionsValidator : IValidateOptions<ReportingOptions>
{
    public ValidateOptionsResult Validate(string? name, ReportingOptions options)
    {
        var failures = new List<string>();
        if (!Uri.TryCreate(options.PaymentsAddress, UriKind.Absolute, out var address) || (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps))
        {
            failures.Add($"Reporting:PaymentsAddress '{options.PaymentsAddress}' must be an absolute http:// or https:// URI, e.g. http://127.0.0.1:8081.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
