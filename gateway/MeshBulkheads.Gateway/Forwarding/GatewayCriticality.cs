using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Rejections;

namespace MeshBulkheads.Gateway.Forwarding;

/// <summary>
/// Sets <c>x-mesh-criticality</c> on every proxied call, overwriting a client's value: payments'
/// <c>Charge</c> is <c>critical</c> (money moves), everything else is <c>sheddable</c>.
/// </summary>
public sealed class GatewayCriticality(RequestDelegate next)
{
    public const string Critical = CriticalityHeader.Critical;
    public const string Sheddable = CriticalityHeader.Sheddable;

    /// <summary>The gRPC methods that are critical.</summary>
    public static IReadOnlySet<string> CriticalMethods { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "/meshbulkheads.payments.v1.PaymentsService/Charge",
    };

    /// <summary>The criticality of a gRPC path.</summary>
    public static BulkheadCriticality Of(PathString path) =>
        path.HasValue && CriticalMethods.Contains(path.Value!) ? BulkheadCriticality.Critical : BulkheadCriticality.Sheddable;

    public Task InvokeAsync(HttpContext context)
    {
        context.Request.Headers[MeshMetadata.Criticality] = CriticalityHeader.ToValue(Of(context.Request.Path));
        return next(context);
    }
}
