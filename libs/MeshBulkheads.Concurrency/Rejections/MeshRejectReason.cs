using Grpc.Core;

namespace MeshBulkheads.Concurrency.Rejections;

/// <summary>One reject reason in both spellings, and the gRPC status it goes out with.</summary>
/// <param name="WireValue">The <c>x-mesh-reject-reason</c> value (kebab-case, the public contract).</param>
/// <param name="Status">The gRPC status, or null for a family whose status is the downstream's.</param>
public sealed record MeshRejectReason(string WireValue, StatusCode? Status)
{
    /// <summary>The metric tag value (snake_case): <c>queue-full</c> → <c>queue_full</c>.</summary>
    public string MetricTag { get; } = WireValue.Replace('-', '_');

    /// <summary><c>DeadlineExceeded</c> → <c>deadline-exceeded</c>.</summary>
    internal static string Kebab(string pascal)
    {
        var builder = new System.Text.StringBuilder(pascal.Length + 4);
        for (var i = 0; i < pascal.Length; i++)
        {
            if (i > 0 && char.IsUpper(pascal[i]))
            {
                builder.Append('-');
            }

            builder.Append(char.ToLowerInvariant(pascal[i]));
        }

        return builder.ToString();
    }
}
