using Google.Protobuf;
using Grpc.Core;
using MeshBulkheads.Concurrency.Grpc;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Contracts.Render.V1;
using MeshBulkheads.Render.Rendering;
using MeshBulkheads.Render.Streaming;
using MeshBulkheads.Render.Workers;
using MeshBulkheads.ServiceDefaults.Grpc;

namespace MeshBulkheads.Render.Grpc;

/// <summary>
/// The gRPC surface: validates the request and awaits the dispatcher. It never renders on the
/// request thread itself (unless the <c>Render:Pitfalls:Inline</c> pitfall switch is on).
/// </summary>
public sealed class RenderGrpcService(RenderDispatcher dispatcher, RenderRowStreamer streamer, IOptions<RenderOptions> options, IOptions<CriticalityOptions> criticality)
    : RenderService.RenderServiceBase
{
    public override async Task<RenderResponse> Render(RenderRequest request, ServerCallContext context)
    {
        var parameters = Validate(request, options.Value);

        // DeadlineInterceptor has already given the call a finite deadline (the method default when the
        // caller sent none); the bulkhead uses it for deadline-aware admission.
        var caller = BulkheadInterceptor.ReadRequest(context, criticality.Value);
        var result = await dispatcher.RenderAsync(parameters, caller, context.CancellationToken);
        return new RenderResponse { Png = ByteString.CopyFrom(result.Png), Sha256 = result.Sha256 };
    }

    /// <summary>The same image as rows, each written as it is computed; validated and admitted like <see cref="Render"/>.</summary>
    public override Task RenderRows(RenderRequest request, IServerStreamWriter<RenderRow> responseStream, ServerCallContext context)
    {
        var parameters = Validate(request, options.Value);
        var caller = BulkheadInterceptor.ReadRequest(context, criticality.Value);
        return streamer.StreamAsync(parameters, caller, responseStream, context.CancellationToken);
    }

    /// <summary>Applies defaults for zeros and checks every field against the configured maxima.</summary>
    public static RenderParameters Validate(RenderRequest request, RenderOptions options)
    {
        var width = Resolve("width", request.Width, RenderOptions.DefaultWidth, options.MaxWidth);
        var height = Resolve("height", request.Height, RenderOptions.DefaultHeight, options.MaxHeight);
        var iterations = Resolve("iterations", request.Iterations, RenderOptions.DefaultIterations, options.MaxIterations);
        var pixels = (long)width * height;
        if (pixels > options.MaxPixels)
        {
            throw GrpcErrors.InvalidArgument(
                $"width × height must be at most {options.MaxPixels} pixels; got {width} × {height} = {pixels}. Reduce width or height.");
        }

        return new RenderParameters(width, height, iterations);
    }

    private static int Resolve(string field, int value, int defaultValue, int max)
    {
        if (value < 0 || value > max)
        {
            throw GrpcErrors.InvalidArgument(
                $"{field} must be between 0 and {max} (0 means the default {defaultValue}); got {value}.");
        }

        return value == 0 ? defaultValue : value;
    }
}
