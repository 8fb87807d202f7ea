namespace MeshBulkheads.Gateway.Forwarding;

/// <summary>
/// The gRPC method a call resolved to (exactly, case-sensitively) against the contracts' descriptors,
/// set on the call's <see cref="GatewayCall"/> by <see cref="MethodResolutionMiddleware"/> before any other work. Every
/// per-method policy at the gateway reads this, never the raw request path.
/// </summary>
public sealed class GatewayMethod
{
    internal GatewayMethod(string service, string name, bool isStreaming = false)
    {
        Service = service;
        Name = name;
        Path = $"/{service}/{name}";
        IsStreaming = isStreaming;
    }

    /// <summary>The full service name, e.g. <c>meshbulkheads.payments.v1.PaymentsService</c>.</summary>
    public string Service { get; }

    /// <summary>The method name, e.g. <c>GetBalance</c>.</summary>
    public string Name { get; }

    /// <summary>The canonical path, e.g. <c>/meshbulkheads.payments.v1.PaymentsService/GetBalance</c>.</summary>
    public string Path { get; }

    /// <summary>
    /// Whether the client or the server streams (e.g. <c>RenderService.RenderRows</c>): its route permit is held for the
    /// stream's life and asked for as long-lived, so the stream's length never inflates the route's pushback.
    /// </summary>
    public bool IsStreaming { get; }
}
