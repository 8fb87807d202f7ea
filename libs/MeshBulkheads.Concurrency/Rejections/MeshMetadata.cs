namespace MeshBulkheads.Concurrency.Rejections;

/// <summary>Metadata keys that travel between the gateway, the services and their callers.</summary>
public static class MeshMetadata
{
    /// <summary>The caller's API key; read by the gateway only.</summary>
    public const string ApiKey = "x-api-key";

    /// <summary>The authenticated tenant, set by the gateway (a client-sent value is removed).</summary>
    public const string TenantId = "x-tenant-id";

    /// <summary><c>critical</c> or <c>sheddable</c>; set by the gateway, forwarded on fan-out.</summary>
    public const string Criticality = "x-mesh-criticality";

    /// <summary>Why a call was rejected, in kebab-case (see the README's rejection table).</summary>
    public const string RejectReason = "x-mesh-reject-reason";

    /// <summary>gRFC A6 server pushback: how long a client should wait before it retries, in milliseconds.</summary>
    public const string RetryPushbackMs = "grpc-retry-pushback-ms";

    /// <summary>HTTP <c>Retry-After</c>, in whole seconds.</summary>
    public const string RetryAfter = "retry-after";

    /// <summary>The gRPC deadline header.</summary>
    public const string GrpcTimeout = "grpc-timeout";
}
