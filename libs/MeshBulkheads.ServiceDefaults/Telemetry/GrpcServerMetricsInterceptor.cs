using System.Diagnostics.Metrics;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;
using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Concurrency.Grpc;
using MeshBulkheads.ServiceDefaults.Telemetry.Internal;

namespace MeshBulkheads.ServiceDefaults.Telemetry;

/// <summary>
/// gRPC-aware RED metrics for servers. ASP.NET Core's <c>http.server.request.duration</c> records
/// HTTP 200 for almost every gRPC error, so it cannot carry an error ratio; this one is labelled with
/// the gRPC status code. Labels are bounded: they come from the method routing resolved (the
/// endpoint's <see cref="GrpcMethodMetadata"/>), never from the request path a caller spelled. Every call shape
/// is measured (unary and streaming), so a stream that ends DEADLINE_EXCEEDED or is rejected is counted too.
/// </summary>
public sealed class GrpcServerMetricsInterceptor : Interceptor
{
    /// <summary>Exported as <c>meshbulkheads_rpc_server_duration_seconds</c> (with _count as the rate).</summary>
    public const string InstrumentName = "meshbulkheads.rpc.server.duration";

    private readonly TimeProvider _timeProvider;
    private readonly GrpcCallDuration _duration;

    public GrpcServerMetricsInterceptor(IMeterFactory meterFactory, TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        _duration = new GrpcCallDuration(meterFactory, timeProvider, InstrumentName, "Duration of gRPC calls served, by method and gRPC status code.");
    }

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation) =>
        RunAsync(context, () => continuation(request, context));

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation) =>
        RunAsync(context, () => continuation(requestStream, context));

    /// <summary>A server stream is measured from its arrival to its last message and status, like a unary call.</summary>
    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation) =>
        RunAsync(context, async () =>
        {
            await continuation(request, responseStream, context);
            return true;
        });

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        RunAsync(context, async () =>
        {
            await continuation(requestStream, responseStream, context);
            return true;
        });

    private async Task<T> RunAsync<T>(ServerCallContext context, Func<Task<T>> next)
    {
        var started = _duration.Start();
        var status = StatusCode.OK;
        try
        {
            return await next();
        }
        catch (RpcException ex)
        {
            status = ex.StatusCode;
            throw;
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            status = DeadlineGuard.HasPassed(DeadlineGuard.FromGrpc(context.Deadline), _timeProvider) ? StatusCode.DeadlineExceeded : StatusCode.Cancelled;
            throw;
        }
        catch
        {
            status = StatusCode.Unknown;
            throw;
        }
        finally
        {
            if (_duration.Enabled)
            {
                _duration.Record(started, ResolvedMethod(context), status);
            }
        }
    }

    /// <summary>
    /// The mapped method's full name. <see cref="ServerCallContext.Method"/> is the raw request path,
    /// which routing matches case-insensitively; the endpoint's method is one of a fixed set.
    /// </summary>
    internal static string ResolvedMethod(ServerCallContext context) =>
        GrpcMethodNames.Resolve(context) ?? UnknownMethod;

    /// <summary>The label for a call with no resolved method (not reached through a mapped gRPC endpoint).</summary>
    internal const string UnknownMethod = "/_unknown/_unknown";
}
