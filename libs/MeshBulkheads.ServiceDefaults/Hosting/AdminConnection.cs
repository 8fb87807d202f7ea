using Microsoft.AspNetCore.Connections.Features;

namespace MeshBulkheads.ServiceDefaults.Hosting;

/// <summary>Tells whether a request arrived on the admin (HTTP/1.1) listener or on the gRPC one.</summary>
public static class AdminConnection
{
    internal static readonly object ItemKey = new();

    /// <summary>True when the request came in on the admin port.</summary>
    public static bool IsAdmin(HttpContext context) =>
        context.Features.Get<IConnectionItemsFeature>()?.Items.ContainsKey(ItemKey) == true;
}
