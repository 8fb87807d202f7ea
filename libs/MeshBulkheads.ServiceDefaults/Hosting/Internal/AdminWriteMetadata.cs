using System.Security.Cryptography;
using System.Text;

namespace MeshBulkheads.ServiceDefaults.Hosting.Internal;

/// <summary>Endpoint metadata of an admin write (<see cref="AdminWriteEndpoints.RequireAdminToken"/>), and its check.</summary>
internal sealed class AdminWriteMetadata
{
    public const string TokenIdKey = "meshbulkheads.admin.token_id";

    private const string Scheme = "Bearer ";

    public static AdminWriteMetadata Instance { get; } = new();

    /// <summary>Null when the request may proceed; else the status it gets (401 or 403), with a plain-text reason written.</summary>
    public static Task? Refuse(HttpContext context)
    {
        var configured = context.RequestServices.GetService<IOptionsMonitor<MeshAdminOptions>>()?.CurrentValue.Token;
        if (string.IsNullOrEmpty(configured))
        {
            return WriteAsync(context, StatusCodes.Status403Forbidden, "admin writes are not configured on this process (Mesh:Admin:Token is empty)");
        }

        var sent = context.Request.Headers.Authorization;
        if (sent.Count != 1 || sent[0] is not { } value || !value.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return WriteAsync(context, StatusCodes.Status401Unauthorized, "send the admin token as 'Authorization: Bearer <token>'");
        }

        var token = value[Scheme.Length..].Trim();
        // Hashes compared in fixed time: neither the length nor a prefix of the configured token leaks.
        var expected = SHA256.HashData(Encoding.UTF8.GetBytes(configured));
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        if (!CryptographicOperations.FixedTimeEquals(expected, presented))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
            return WriteAsync(context, StatusCodes.Status401Unauthorized, "wrong admin token");
        }

        context.Items[TokenIdKey] = AdminWriteEndpoints.IdOf(token);
        return null;
    }

    private static Task WriteAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(message + "\n");
    }
}
