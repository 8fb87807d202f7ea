
namespace MeshBulkheads.EndToEnd.Tests.Bulkheads;

/// <summary>How one call of a flood ended: its status and, for a failure, the trailers (Trailers-Only headers included).</summary>
public sealed record CallOutcome(int Index, StatusCode Status, Metadata Trailers, string Detail)
{
    public string? RejectReason => Trailers.GetValue("x-mesh-reject-reason");

    public string? Pushback => Trailers.GetValue("grpc-retry-pushback-ms");

    public override string ToString() => $"#{Index} {Status} reason={RejectReason ?? "-"} pushback={Pushback ?? "-"} '{Detail}'";
}

/// <summary>
/// An open-loop, bounded flood: call <c>i</c> starts at about <c>i × interval</c> whether or not earlier
/// calls have finished (a closed loop would slow down with the server and hide the overload), in waves of
/// <c>waveSize</c> calls started together.
/// </summary>
public static class FixedRateFlood
{
    public static async Task<IReadOnlyList<CallOutcome>> RunAsync(int waves, int waveSize, TimeSpan interval, Func<int, Task> call)
    {
        var calls = new List<Task<CallOutcome>>(waves * waveSize);
        using var timer = new PeriodicTimer(interval);
        for (var wave = 0; wave < waves; wave++)
        {
            if (wave > 0)
            {
                await timer.WaitForNextTickAsync(TestContext.Current.CancellationToken);
            }

            for (var i = 0; i < waveSize; i++)
            {
                calls.Add(CaptureAsync(calls.Count, call));
            }
        }

        return await Task.WhenAll(calls);
    }

    /// <summary>Runs one call and captures how it ended.</summary>
    public static async Task<CallOutcome> CaptureAsync(int index, Func<int, Task> call)
    {
        try
        {
            await call(index);
            return new CallOutcome(index, StatusCode.OK, [], "");
        }
        catch (RpcException ex)
        {
            return new CallOutcome(index, ex.StatusCode, ex.Trailers, ex.Status.Detail);
        }
    }
}
