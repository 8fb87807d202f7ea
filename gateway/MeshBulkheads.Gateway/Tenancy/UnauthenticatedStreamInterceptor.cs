using System.Globalization;
using Grpc.Core;
using Grpc.Core.Interceptors;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Gateway.Telemetry;
using MeshBulkheads.Gateway.Tenancy.Internal;

namespace MeshBulkheads.Gateway.Tenancy;

/// <summary>
/// Ends the gateway's own long-lived streams (reflection's <c>ServerReflectionInfo</c>, <c>grpc.health.v1.Health/Watch</c>,
/// served without an API key) once a stream without a valid <c>x-api-key</c> has received nothing from its client for
/// <see cref="GatewayTenancyOptions.UnauthenticatedStreamIdleTimeout"/>: the call ends <c>UNAVAILABLE</c> with reason
/// <c>unauthenticated-stream-idle</c> (a client reopens it; a health watcher simply watches again). Anyone may still
/// probe, list and describe; what nobody without a key can do is hold a stream slot and its memory open for ever (the
/// connection and stream limits bound how many; this bounds for how long). Unary calls and streams with a valid key are
/// untouched.
/// </summary>
public sealed class UnauthenticatedStreamInterceptor(
    ApiKeyAuthenticator authenticator,
    IOptions<GatewayTenancyOptions> options,
    TimeProvider timeProvider,
    ILogger<UnauthenticatedStreamInterceptor> logger) : Interceptor
{
    private readonly TimeSpan _timeout = options.Value.UnauthenticatedStreamIdleTimeout;

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        return IsAuthenticated(context)
            ? continuation(request, responseStream, context)
            : WithIdleTimeoutAsync(context, (idle, _) => continuation(request, responseStream, idle));
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        return IsAuthenticated(context)
            ? continuation(requestStream, responseStream, context)
            : WithIdleTimeoutAsync(context, (idle, clock) => continuation(new IdleStreamReader<TRequest>(requestStream, clock), responseStream, idle));
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        if (IsAuthenticated(context))
        {
            return await continuation(requestStream, context).ConfigureAwait(false);
        }

        TResponse? response = default;
        await WithIdleTimeoutAsync(context, async (idle, clock) => response = await continuation(new IdleStreamReader<TRequest>(requestStream, clock), idle).ConfigureAwait(false)).ConfigureAwait(false);
        return response!;
    }

    private bool IsAuthenticated(ServerCallContext context) =>
        context.RequestHeaders.GetValue(MeshMetadata.ApiKey) is { Length: > 0 and <= TenancyMiddleware.MaxKeyLength } key && authenticator.Authenticate(key) is not null;

    private async Task WithIdleTimeoutAsync(ServerCallContext context, Func<ServerCallContext, IdleStreamClock, Task> run)
    {
        using var clock = new IdleStreamClock(timeProvider, _timeout, context.CancellationToken);
        try
        {
            await run(new IdleStreamServerCallContext(context, clock.Token), clock).ConfigureAwait(false);
        }
        catch (Exception) when (clock.Expired)
        {
            // The handler ended because its token was cancelled (whatever it threw): answered below.
        }

        if (clock.Expired && !context.CancellationToken.IsCancellationRequested)
        {
            GatewayLog.UnauthenticatedStreamEnded(logger, context.Method, _timeout.TotalMilliseconds);
            throw new RpcException(
                new Status(StatusCode.Unavailable, string.Create(CultureInfo.InvariantCulture,
                    $"a stream without a valid x-api-key ends after {_timeout.TotalSeconds:0.###} s without a message from the client; reopen it, or send a key")),
                new Metadata { { MeshMetadata.RejectReason, MeshRejectReasons.UnauthenticatedStreamIdle } });
        }
    }
}
