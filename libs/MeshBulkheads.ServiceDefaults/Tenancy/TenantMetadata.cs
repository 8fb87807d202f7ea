using System.Text.RegularExpressions;
using Grpc.Core;
using MeshBulkheads.Concurrency.Rejections;

namespace MeshBulkheads.ServiceDefaults.Tenancy;

/// <summary>Reads the authenticated tenant that the gateway put in <c>x-tenant-id</c>.</summary>
public static partial class TenantMetadata
{
    /// <summary>What a valid tenant id looks like, for messages.</summary>
    public const string IdRule = "1-64 characters of a-z, 0-9 and '-', starting with a letter or digit";

    /// <summary>
    /// The one tenant id rule of the mesh: the services check <c>x-tenant-id</c> with it, and the gateway checks its
    /// configured tenants with it at start, so a tenant the services would refuse never starts.
    /// </summary>
    public static bool IsValidId(string? tenantId) => tenantId is not null && TenantPattern().IsMatch(tenantId);

    /// <summary>The tenant of the call, or an <c>UNAUTHENTICATED</c> error naming what is missing.</summary>
    public static string RequireTenant(ServerCallContext context)
    {
        var tenant = context.RequestHeaders.GetValue(MeshMetadata.TenantId);
        if (string.IsNullOrEmpty(tenant))
        {
            throw new RpcException(new Status(
                StatusCode.Unauthenticated,
                $"Missing '{MeshMetadata.TenantId}' metadata: call through the gateway with an '{MeshMetadata.ApiKey}', or set '{MeshMetadata.TenantId}' when calling a service directly."));
        }

        if (!IsValidId(tenant))
        {
            throw new RpcException(new Status(
                StatusCode.InvalidArgument,
                $"'{MeshMetadata.TenantId}' must be {IdRule}."));
        }

        return tenant;
    }

    // \A…\z, not ^…$: $ also matches before a final newline (HTTP/2 header values cannot carry one, but the rule should not depend on the transport).
    [GeneratedRegex(@"\A[a-z0-9][a-z0-9-]{0,63}\z", RegexOptions.CultureInvariant)]
    private static partial Regex TenantPattern();
}
