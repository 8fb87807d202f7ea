using System.Diagnostics;
using System.Diagnostics.Metrics;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace MeshBulkheads.ServiceDefaults.Telemetry;

/// <summary>
/// gRPC-aware RED metrics for servers. ASP.NET Core's <c>http.server.request.duration</c> records
/// HTTP 200 for almost every gRPC error, so it cannot carry an error ratio; this one is labelled with
/// the gRPC status code. Labels are bounded: only methods this server maps reach an interceptor.
/// </summary>
public sealed class GrpcServerMetricsInterceptor : Interceptor
{
    /// <summary>Exported as <c>meshbulkheads_rpc_server_duration_seconds</c> (with _count as the rate).</summary>
    public const string InstrumentName = "meshbulkheads.rpc.server.duration";

    private readonly TimeProvider _timeProvider;
    private readonly Histogram<double> _duration;

    public GrpcServerMetricsInterceptor(IMeterFactory meterFactory, TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        _duration = GrpcMetrics.CreateDurationHistogram(meterFactory, InstrumentName, "Duration of gRPC calls served, by method and gRPC status code.");
    }

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var started = _timeProvider.GetTimestamp();
        var status = StatusCode.OK;
        try
        {
            return await continuation(request, context);
        }
        catch (RpcException ex)
        {
            status = ex.StatusCode;
            throw;
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            status = context.Deadline <= _timeProvider.GetUtcNow().UtcDateTime ? StatusCode.DeadlineExceeded : StatusCode.Cancelled;
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
                var tags = GrpcMetrics.Tags(context.Method, status);
                _duration.Record(_timeProvider.GetElapsedTime(started).TotalSeconds, tags);
            }
        }
    }
}

/// <summary>Shared shape of the gRPC server and client metrics.</summary>
public static class GrpcMetrics
{
    /// <summary>Meter for RPC metrics.</summary>
    public const string MeterName = MeshTelemetry.Prefix + ".Rpc";

    internal static Histogram<double> CreateDurationHistogram(IMeterFactory meterFactory, string name, string description) =>
        meterFactory.Create(MeterName).CreateHistogram<double>(
            name,
            unit: "s",
            description: description,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = MeshTelemetry.SecondsBuckets });

    /// <summary>Splits "/pkg.Service/Method" into OpenTelemetry's rpc.service and rpc.method, with the status code.</summary>
    public static TagList Tags(string fullMethod, StatusCode status)
    {
        var trimmed = fullMethod.AsSpan().TrimStart('/');
        var slash = trimmed.IndexOf('/');
        var service = slash > 0 ? trimmed[..slash].ToString() : trimmed.ToString();
        var method = slash > 0 ? trimmed[(slash + 1)..].ToString() : string.Empty;
        return new TagList
        {
            { "rpc.system", "grpc" },
            { "rpc.service", service },
            { "rpc.method", method },
            { "rpc.grpc.status_code", StatusName(status) },
        };
    }

    /// <summary>The canonical upper-case name (OK, UNAVAILABLE, ...), a bounded label value.</summary>
    public static string StatusName(StatusCode status) => status switch
    {
        StatusCode.OK => "OK",
        StatusCode.Cancelled => "CANCELLED",
        StatusCode.Unknown => "UNKNOWN",
        StatusCode.InvalidArgument => "INVALID_ARGUMENT",
        StatusCode.DeadlineExceeded => "DEADLINE_EXCEEDED",
        StatusCode.NotFound => "NOT_FOUND",
        StatusCode.AlreadyExists => "ALREADY_EXISTS",
        StatusCode.PermissionDenied => "PERMISSION_DENIED",
        StatusCode.ResourceExhausted => "RESOURCE_EXHAUSTED",
        StatusCode.FailedPrecondition => "FAILED_PRECONDITION",
        StatusCode.Aborted => "ABORTED",
        StatusCode.OutOfRange => "OUT_OF_RANGE",
        StatusCode.Unimplemented => "UNIMPLEMENTED",
        StatusCode.Internal => "INTERNAL",
        StatusCode.Unavailable => "UNAVAILABLE",
        StatusCode.DataLoss => "DATA_LOSS",
        StatusCode.Unauthenticated => "UNAUTHENTICATED",
        _ => "UNKNOWN",
    };
}
