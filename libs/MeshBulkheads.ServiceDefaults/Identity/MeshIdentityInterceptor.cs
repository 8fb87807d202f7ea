using System.Collections.Frozen;
using System.Diagnostics.Metrics;
using Grpc.Core;
using Grpc.Core.Interceptors;
using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Grpc;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Concurrency.Telemetry;
using MeshBulkheads.Contracts.Identity;
using MeshBulkheads.ServiceDefaults.Telemetry;

namespace MeshBulkheads.ServiceDefaults.Identity;

/// <summary>
/// Verifies the gateway-signed identity token (<see cref="MeshIdentityToken"/>) of every call before any other mesh
/// interceptor but metrics, so a call nobody vouched for never gets a deadline, a validation answer or a permit.
/// </summary>
/// <remarks>
/// <para>A missing, malformed, forged, expired, wrong-audience or wrong-method token → <c>UNAUTHENTICATED</c> with the
/// <c>identity-*</c> reason (<see cref="MeshRejectReasons"/>). Health and reflection are exempt (<see cref="UngatedMethods"/>).</para>
/// <para>Then the token is the call's identity: a sent <c>x-tenant-id</c> must equal its tenant and is set from it when
/// absent; <c>x-mesh-criticality</c> may lower the token's criticality (reporting's fan-out is sheddable) but never
/// raise it, and is set to sheddable when absent and the token is sheddable. Everything after this interceptor keeps reading the headers.</para>
/// <para>Keys are read live (<see cref="IOptionsMonitor{TOptions}"/>): a rotation or a reloaded Secret takes effect without a restart.</para>
/// </remarks>
public sealed class MeshIdentityInterceptor : Interceptor
{
    /// <summary>The counter of refused calls, by reason.</summary>
    public const string RefusalsInstrument = "meshbulkheads.identity.refusals";

    private readonly TimeProvider _timeProvider;
    private readonly Counter<long> _refusals;
    private volatile KeyRing _keys;

    /// <summary>Creates the interceptor on the service's live identity options.</summary>
    public MeshIdentityInterceptor(IOptionsMonitor<MeshIdentityOptions> options, TimeProvider timeProvider, IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(meterFactory);
        _timeProvider = timeProvider;
        if (string.IsNullOrEmpty(options.CurrentValue.Audience))
        {
            throw new InvalidOperationException(
                $"{nameof(MeshIdentityInterceptor)} has no audience: call services.AddMeshIdentity(serviceName) in a host that adds the mesh interceptors (MeshHost.BuildGrpcService does).");
        }

        _keys = new KeyRing(options.CurrentValue);
        options.OnChange(o => _keys = new KeyRing(o));
        _refusals = meterFactory.Create(GrpcMetrics.MeterName).CreateRequestCounter(
            RefusalsInstrument, "Calls refused because their identity token was missing or invalid, by reason.");
    }

    /// <inheritdoc />
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Verify(context);
        return continuation(request, context);
    }

    /// <inheritdoc />
    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Verify(context);
        return continuation(requestStream, context);
    }

    /// <inheritdoc />
    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Verify(context);
        return continuation(request, responseStream, context);
    }

    /// <inheritdoc />
    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Verify(context);
        return continuation(requestStream, responseStream, context);
    }

    private void Verify(ServerCallContext context)
    {
        var http = context.GetHttpContext();
        var method = GrpcMethodNames.Resolve(http);
        if (method is null || UngatedMethods.IsUngated(method))
        {
            return;
        }

        var headers = http.Request.Headers;
        var sent = headers[MeshIdentityToken.Header];
        var keys = _keys;
        MeshIdentityClaims? claims = null;
        var result = sent.Count > 1
            ? MeshIdentityTokenResult.Malformed
            : MeshIdentityToken.Verify(sent.ToString(), keys.Keys, keys.Audience, method, _timeProvider.GetUtcNow(), out claims);
        if (result != MeshIdentityTokenResult.Valid)
        {
            throw Refuse(result, keys.Audience, sent.Count);
        }

        Bind(context, headers, claims!);
    }

    private void Bind(ServerCallContext context, IHeaderDictionary headers, MeshIdentityClaims claims)
    {
        var tenant = headers[MeshMetadata.TenantId];
        if (tenant.Count == 0)
        {
            // A token without a tenant (never the gateway's: it mints only for authenticated tenants) leaves the call
            // tenant-less, which payments and reporting refuse and render buckets as one shared tenant.
            if (claims.Tenant.Length > 0)
            {
                Set(context, headers, MeshMetadata.TenantId, claims.Tenant);
            }
        }
        else if (tenant.Count > 1 || !string.Equals(tenant.ToString(), claims.Tenant, StringComparison.Ordinal))
        {
            throw Refused(
                MeshRejectReasons.IdentityMismatch,
                $"'{MeshMetadata.TenantId}' {EchoedValue.Quote(tenant.ToString())} is not the tenant the identity token was issued to; send the gateway's headers unchanged.");
        }

        if (!CriticalityHeader.TryParse(claims.Criticality, out var granted))
        {
            throw Refused(MeshRejectReasons.IdentityInvalid, "The identity token names no valid criticality.");
        }

        var asked = headers[MeshMetadata.Criticality];
        if (asked.Count == 0)
        {
            // Absent means the method's configured default, which could be higher than a sheddable token: pin it.
            // A critical token leaves the default in force (nothing ranks above critical).
            if (granted == BulkheadCriticality.Sheddable)
            {
                Set(context, headers, MeshMetadata.Criticality, CriticalityHeader.Sheddable);
            }
        }
        else if (asked.Count == 1 && CriticalityHeader.TryParse(asked.ToString(), out var criticality)
            && criticality == BulkheadCriticality.Critical && granted == BulkheadCriticality.Sheddable)
        {
            // Lowering (critical → sheddable) is how a fan-out yields; raising would let a caller jump the shedding order.
            throw Refused(
                MeshRejectReasons.IdentityMismatch,
                $"'{MeshMetadata.Criticality}: {CriticalityHeader.Critical}' raises the identity token's '{claims.Criticality}'; criticality may only be lowered.");
        }

        // Anything else (an invalid or repeated value) is left to the bulkhead interceptor's INVALID_ARGUMENT.
    }

    private static void Set(ServerCallContext context, IHeaderDictionary headers, string name, string value)
    {
        // Both views: the span enricher reads the HTTP headers, the handlers and interceptors the gRPC metadata
        // (materialized from the HTTP headers on first use, so it may already hold the value just set).
        headers[name] = value;
        var metadata = context.RequestHeaders;
        if (metadata.Get(name) is null)
        {
            metadata.Add(name, value);
        }
    }

    private RpcException Refuse(MeshIdentityTokenResult result, string audience, int sentCount) => result switch
    {
        MeshIdentityTokenResult.Missing => Refused(
            MeshRejectReasons.IdentityMissing,
            $"No '{MeshIdentityToken.Header}': '{audience}' serves only calls the gateway signed. Call through the gateway with an '{MeshMetadata.ApiKey}', or mint a token for a direct call (`make token`, docs/security.md)."),
        MeshIdentityTokenResult.Malformed => Refused(
            MeshRejectReasons.IdentityInvalid,
            sentCount > 1 ? $"'{MeshIdentityToken.Header}' was sent {sentCount} times." : $"'{MeshIdentityToken.Header}' is not a v1 identity token."),
        MeshIdentityTokenResult.UnknownKey => Refused(
            MeshRejectReasons.IdentityInvalid, $"The identity token's key id is not one of '{audience}''s live keys (rotated out, or another service's)."),
        MeshIdentityTokenResult.BadSignature => Refused(MeshRejectReasons.IdentityInvalid, "The identity token's signature does not match: forged or altered."),
        MeshIdentityTokenResult.Expired => Refused(MeshRejectReasons.IdentityExpired, "The identity token has expired (it lives as long as the call's deadline)."),
        MeshIdentityTokenResult.WrongAudience => Refused(MeshRejectReasons.IdentityWrongAudience, $"The identity token is for another service, not '{audience}'."),
        _ => Refused(MeshRejectReasons.IdentityWrongMethod, "The identity token is for another method."),
    };

    private RpcException Refused(string reason, string message)
    {
        _refusals.Add(1, new KeyValuePair<string, object?>(MeshTelemetryTags.Reason, reason));
        return new MeshRejection(StatusCode.Unauthenticated, reason, message) { DoNotRetry = true }.ToRpcException();
    }

    private sealed class KeyRing
    {
        public KeyRing(MeshIdentityOptions options)
        {
            Audience = options.Audience;
            var keys = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var (keyId, key) in options.Keys)
            {
                if (MeshIdentityToken.IsValidKeyId(keyId) && MeshIdentityToken.DecodeKey(key) is { } bytes)
                {
                    keys[keyId] = bytes;
                }
            }

            Keys = keys.ToFrozenDictionary(StringComparer.Ordinal);
        }

        public string Audience { get; }

        public FrozenDictionary<string, byte[]> Keys { get; }
    }
}
