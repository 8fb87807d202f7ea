using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Contracts.Reporting.V1;
using MeshBulkheads.ServiceDefaults.Grpc;

namespace MeshBulkheads.Reporting.Grpc;

/// <summary>
/// The checks a BuildReport request must pass before it costs anything: the id count first (before any
/// id is looked at), then every id against the shared <see cref="AccountIdRule"/>, then duplicates, then
/// the criticality header. Every caller value a message repeats goes through <see cref="EchoedValue.Quote"/>,
/// so no message grows with the request (a status travels in a header block with a 64 KB limit at the gateway).
/// </summary>
public static class BuildReportValidation
{
    /// <summary>1..<paramref name="maxAccounts"/> distinct valid ids; each error names the offending position.</summary>
    public static void Validate(BuildReportRequest request, int maxAccounts)
    {
        ArgumentNullException.ThrowIfNull(request);
        var ids = request.AccountIds;
        if (ids.Count == 0)
        {
            throw GrpcErrors.InvalidArgument($"account_ids is empty; give 1 to {maxAccounts} account ids.");
        }

        if (ids.Count > maxAccounts)
        {
            throw GrpcErrors.InvalidArgument($"account_ids has {ids.Count} ids; at most {maxAccounts} are allowed per report. Split the report.");
        }

        var seen = new Dictionary<string, int>(ids.Count, StringComparer.Ordinal);
        for (var i = 0; i < ids.Count; i++)
        {
            var id = ids[i];
            if (string.IsNullOrEmpty(id))
            {
                throw GrpcErrors.InvalidArgument($"account_ids[{i}] is empty; every account id must be non-empty.");
            }

            if (!AccountIdRule.IsValid(id))
            {
                throw GrpcErrors.InvalidArgument(
                    $"account_ids[{i}] {EchoedValue.Quote(id)} is not a valid account id: {AccountIdRule.Description}.");
            }

            if (!seen.TryAdd(id, i))
            {
                throw GrpcErrors.InvalidArgument(
                    $"account_ids[{i}] {EchoedValue.Quote(id)} duplicates account_ids[{seen[id]}]; list each account once.");
            }
        }
    }
}
