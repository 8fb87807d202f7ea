namespace MeshBulkheads.Render;

/// <summary>Source-generated log messages of the render service.</summary>
/// <remarks>
/// Shedding is per request and can run at the offered rate under overload, so it is Debug: the rate is
/// on <c>meshbulkheads_bulkhead_requests_total{meshbulkheads_bulkhead="render"}</c>. A failed render is a
/// bug or a broken input, so it is an Error with its exception.
/// </remarks>
internal static partial class RenderLog
{
    [LoggerMessage(1, LogLevel.Debug, "Render shed by bulkhead '{Bulkhead}' before it started: {Result} (tenant {Tenant}).", EventName = nameof(RenderShed))]
    public static partial void RenderShed(ILogger logger, string bulkhead, string result, string? tenant);

    [LoggerMessage(2, LogLevel.Debug, "Render refused: tenant {Tenant} has spent its work budget ({WorkUnits} work units asked).", EventName = nameof(RenderBudgetExhausted))]
    public static partial void RenderBudgetExhausted(ILogger logger, string? tenant, long workUnits);

    [LoggerMessage(3, LogLevel.Error, "Render {Width}x{Height} ({Iterations} iterations) failed with an unexpected error.", EventName = nameof(RenderFailed))]
    public static partial void RenderFailed(ILogger logger, int width, int height, int iterations, Exception exception);
}
