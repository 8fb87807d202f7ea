using System.Diagnostics.Metrics;
using Grpc.Core;
using Grpc.Core.Interceptors;
using MeshBulkheads.ServiceDefaults.Telemetry.Internal;

namespace MeshBulkheads.ServiceDefaults.Telemetry;

/// <summary>
/// gRPC-aware RED metrics for clients: the duration of every unary call this process makes, by
/// method and gRPC status code (the caller's view, including time in its own channel and retries).
/// ServiceDefaults registers it on every client created with <c>AddGrpcClient</c>.
/// </summary>
/// <remarks>Streaming calls are not measured: the mesh's methods are all unary.</remarks>
public sealed class GrpcClientMetricsInterceptor : Interceptor
{
    /// <summary>Exported as <c>meshbulkheads_rpc_client_duration_seconds</c> (with _count as the rate).</summary>
    public const string InstrumentName = "meshbulkheads.rpc.client.duration";

    private readonly GrpcCallDuration _duration;

    public GrpcClientMetricsInterceptor(IMeterFactory meterFactory, TimeProvider timeProvider) =>
        _duration = new GrpcCallDuration(meterFactory, timeProvider, InstrumentName, "Duration of gRPC calls made, by method and gRPC status code.");

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(
        TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        var started = _duration.Start();
        AsyncUnaryCall<TResponse> call;
        try
        {
            call = continuation(request, context);
        }
        catch (Exception ex)
        {
            Record(context.Method.FullName, StatusOf(ex), started);
            throw;
        }

        return new AsyncUnaryCall<TResponse>(
            ObserveAsync(call.ResponseAsync, context.Method.FullName, started),
            call.ResponseHeadersAsync,
            call.GetStatus,
            call.GetTrailers,
            call.Dispose);
    }

    public override TResponse BlockingUnaryCall<TRequest, TResponse>(
        TRequest request, ClientInterceptorContext<TRequest, TResponse> context, BlockingUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        var started = _duration.Start();
        var status = StatusCode.OK;
        try
        {
            return continuation(request, context);
        }
        catch (Exception ex)
        {
            status = StatusOf(ex);
            throw;
        }
        finally
        {
            Record(context.Method.FullName, status, started);
        }
    }

    private async Task<TResponse> ObserveAsync<TResponse>(Task<TResponse> response, string fullMethod, long started)
    {
        var status = StatusCode.OK;
        try
        {
            return await response.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            status = StatusOf(ex);
            throw;
        }
        finally
        {
            Record(fullMethod, status, started);
        }
    }

    /// <summary>grpc-dotnet reports every failure (deadline, cancellation, transport) as an <see cref="RpcException"/>.</summary>
    private static StatusCode StatusOf(Exception ex) => ex switch
    {
        RpcException rpc => rpc.StatusCode,
        OperationCanceledException => StatusCode.Cancelled,
        _ => StatusCode.Unknown,
    };

    private void Record(string fullMethod, StatusCode status, long started)
    {
        if (_duration.Enabled)
        {
            _duration.Record(started, fullMethod, status);
        }
    }
}
