using System.Security.Cryptography;
using System.Text;
using MeshBulkheads.ServiceDefaults.Hosting.Internal;

namespace MeshBulkheads.ServiceDefaults.Hosting;

/// <summary>
/// Admin writes: endpoints on the admin listener that change a running process. The token is checked by the
/// listener gate after routing and before the endpoint runs, so before its body is read or parsed: no or a wrong
/// token → 401 (with <c>WWW-Authenticate: Bearer</c>), writes not configured (<c>Mesh:Admin:Token</c> empty) → 403,
/// and only then the endpoint's own 400 for a bad body.
/// </summary>
public static class AdminWriteEndpoints
{
    /// <summary>Marks an endpoint as an admin write: admin listener only, admin token required.</summary>
    public static TBuilder RequireAdminToken<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.WithMetadata(new AdminEndpointMetadata(ServedOnGrpcListener: false), AdminWriteMetadata.Instance);
        return builder;
    }

    /// <summary>
    /// The id of the token that authorized this request (the first 12 hex digits of its SHA-256), for the write's log
    /// line: which token changed what, never the token.
    /// </summary>
    public static string? TokenId(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Items.TryGetValue(AdminWriteMetadata.TokenIdKey, out var id) ? id as string : null;
    }

    /// <summary>The id (<see cref="TokenId"/>) of a token.</summary>
    public static string IdOf(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)))[..12];
}
