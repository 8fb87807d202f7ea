using System.Text.RegularExpressions;
using Grpc.Core;
using MeshBulkheads.Concurrency.Rejections;

namespace MeshBulkheads.ServiceDefaults.Tenancy;

/// <summary>Reads the authenticated tenant that the gateway put in <c>x-tenant-id</c>.</summary>
public static partial class TenantMetadata
{
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

        if (!TenantPattern().IsMatch(tenant))
        {
            throw new RpcException(new Status(
                StatusCode.InvalidArgument,
                $"'{MeshMetadata.TenantId}' must be 1-64 characters of a-z, 0-9 and '-'."));
        }

        return tenant;
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex TenantPattern();
}
