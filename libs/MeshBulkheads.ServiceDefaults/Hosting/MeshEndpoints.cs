using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace MeshBulkheads.ServiceDefaults.Hosting;

/// <summary>The addresses a started host actually listens on (Kestrel rewrites port 0 once bound); the gRPC one is <c>https://</c> over TLS.</summary>
public sealed record MeshEndpoints(Uri Grpc, Uri Admin)
{
    /// <summary>Reads the bound gRPC and admin addresses of a started app.</summary>
    public static MeshEndpoints From(WebApplication app)
    {
        var listeners = app.Services.GetRequiredService<MeshListeners>();
        return new MeshEndpoints(ToUri(listeners.Grpc, listeners.GrpcTls ? Uri.UriSchemeHttps : Uri.UriSchemeHttp), ToUri(listeners.Admin, Uri.UriSchemeHttp));
    }

    private static Uri ToUri(ListenOptions? options, string scheme)
    {
        if (options?.EndPoint is not IPEndPoint endPoint || endPoint.Port == 0)
        {
            throw new InvalidOperationException("The host is not started yet: its ports are not bound.");
        }

        var host = endPoint.Address.Equals(IPAddress.Any) ? "127.0.0.1" : endPoint.Address.ToString();
        return new Uri($"{scheme}://{host}:{endPoint.Port}");
    }
}
