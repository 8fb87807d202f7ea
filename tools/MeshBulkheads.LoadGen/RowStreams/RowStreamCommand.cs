using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Grpc.Core;
using Grpc.Net.Client;
using MeshBulkheads.Contracts.Render.V1;
using MeshBulkheads.LoadGen.Running;
using MeshBulkheads.LoadGen.Scraping;

namespace MeshBulkheads.LoadGen.RowStreams;

/// <summary>One stream's end: its status, the rows it received, and how long the consumer waited for rows.</summary>
internal sealed record RowStreamOutcome(int Stream, string Status, int Rows, double Seconds, double RowsPerSecond, double ClientWaitMsPerRow);

/// <summary>
/// Render's own view over the run, from two scrapes of its <c>/metrics</c>: rows written and the time those writes
/// waited for their consumers (<c>meshbulkheads_render_stream_write_wait_seconds</c>). Null when the admin port did not answer.
/// </summary>
internal sealed record ServerWriteWait(double Rows, double WaitedSeconds, double MeanMsPerRow);

internal sealed record RowStreamResult(
    string Target, int Width, int Height, int Iterations, double ReadDelayMs, IReadOnlyList<RowStreamOutcome> Streams, double TotalRowsPerSecond, ServerWriteWait? ServerWriteWait);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RowStreamResult))]
internal sealed partial class RowStreamJsonContext : JsonSerializerContext;

/// <summary>
/// <c>meshload stream</c>: opens N <c>RenderRows</c> streams through the gateway, reads each row after
/// <c>--read-delay</c>, and prints rows/s beside render's write wait — the seed's third form of backpressure, a slow
/// consumer slowing its producer, made visible. Bounded by the streams' deadline; loopback or any target.
/// </summary>
internal static class RowStreamCommand
{
    /// <summary>The histogram render records each row write's wait in, as Prometheus exports it.</summary>
    public const string WriteWaitMetric = "meshbulkheads_render_stream_write_wait_seconds";

    public static async Task<int> RunAsync(RowStreamOptions options, MeshLoadIo io, CancellationToken cancellationToken)
    {
        if (options.Help)
        {
            io.Out.WriteLine(RowStreamOptions.Usage);
            return ExitCodes.Pass;
        }

        await LoadRun.CheckReachableAsync(options.Target, cancellationToken).ConfigureAwait(false);
        using var admin = new HttpClient { BaseAddress = options.Admin, Timeout = TimeSpan.FromSeconds(2) };
        var before = await ScrapeAsync(admin, cancellationToken).ConfigureAwait(false);
        using var channel = GrpcChannel.ForAddress(options.Target, new GrpcChannelOptions
        {
            MaxRetryAttempts = null,
            MaxReceiveMessageSize = null,
            HttpHandler = new SocketsHttpHandler().Trust(GatewayTls.LoadRoots(options.Target, options.CaFile)),
            DisposeHttpClient = true,
        });
        var client = new RenderService.RenderServiceClient(channel);
        var started = io.Time.GetTimestamp();
        var streams = await Task.WhenAll(Enumerable.Range(1, options.Count).Select(i => ReadStreamAsync(i, client, options, io.Time, cancellationToken))).ConfigureAwait(false);
        var elapsed = io.Time.GetElapsedTime(started).TotalSeconds;
        var after = await ScrapeAsync(admin, cancellationToken).ConfigureAwait(false);
        var result = new RowStreamResult(
            options.Target.ToString(),
            options.Width,
            options.Height,
            options.Iterations,
            options.ReadDelay.TotalMilliseconds,
            streams,
            elapsed > 0 ? streams.Sum(s => s.Rows) / elapsed : 0,
            Difference(before, after));

        if (options.Json)
        {
            io.Out.WriteLine(JsonSerializer.Serialize(result, RowStreamJsonContext.Default.RowStreamResult));
        }
        else
        {
            Print(result, io.Out);
        }

        return streams.All(s => s.Status == "OK") ? ExitCodes.Pass : ExitCodes.ThresholdFailed;
    }

    internal static void Print(RowStreamResult result, TextWriter output)
    {
        var c = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(c, $"meshload stream: {result.Streams.Count} RenderRows streams of {result.Width}x{result.Height} (rows of {result.Width * 3 / 1024.0:0.#} KB), read delay {result.ReadDelayMs:0.#} ms, through {result.Target}"));
        output.WriteLine("stream  status              rows   seconds   rows/s  client wait/row");
        foreach (var s in result.Streams)
        {
            output.WriteLine(string.Create(c, $"{s.Stream,6}  {s.Status,-18}  {s.Rows,5}  {s.Seconds,8:0.00}  {s.RowsPerSecond,7:0.0}  {s.ClientWaitMsPerRow,10:0.00} ms"));
        }

        output.WriteLine(string.Create(c, $"total: {result.Streams.Sum(s => s.Rows)} rows, {result.TotalRowsPerSecond:0.0} rows/s"));
        output.WriteLine(result.ServerWriteWait is { } wait
            ? string.Create(c, $"render write wait ({WriteWaitMetric}): {wait.WaitedSeconds:0.000} s over {wait.Rows:0} rows, mean {wait.MeanMsPerRow:0.00} ms per row")
            : $"render write wait ({WriteWaitMetric}): n/a (no answer from the admin port; pass --admin)");
    }

    private static async Task<RowStreamOutcome> ReadStreamAsync(int index, RenderService.RenderServiceClient client, RowStreamOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        var request = new RenderRequest { Width = options.Width, Height = options.Height, Iterations = options.Iterations };
        var headers = new Metadata { { "x-api-key", options.ApiKey } };
        var started = time.GetTimestamp();
        var rows = 0;
        var waited = TimeSpan.Zero;
        string status;
        try
        {
            using var call = client.RenderRows(request, headers, (time.GetUtcNow() + options.Deadline).UtcDateTime, cancellationToken);
            while (true)
            {
                var asked = time.GetTimestamp();
                if (!await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
                {
                    break;
                }

                waited += time.GetElapsedTime(asked);
                rows++;
                if (options.ReadDelay > TimeSpan.Zero)
                {
                    // The slow consumer: it holds this row that long before it asks for the next.
                    await Task.Delay(options.ReadDelay, time, cancellationToken).ConfigureAwait(false);
                }
            }

            status = "OK";
        }
        catch (RpcException ex)
        {
            // STATUS or STATUS/reason, as meshload's other commands count outcomes.
            status = Outcome.From(ex).Key;
        }

        var seconds = time.GetElapsedTime(started).TotalSeconds;
        return new RowStreamOutcome(index, status, rows, seconds, seconds > 0 ? rows / seconds : 0, rows > 0 ? waited.TotalMilliseconds / rows : 0);
    }

    private static async Task<(double Sum, double Count)?> ScrapeAsync(HttpClient admin, CancellationToken cancellationToken)
    {
        try
        {
            var text = await admin.GetStringAsync(new Uri("/metrics", UriKind.Relative), cancellationToken).ConfigureAwait(false);
            var samples = PrometheusText.Parse(text, name => name.StartsWith(WriteWaitMetric, StringComparison.Ordinal));
            return (samples.Where(s => s.Name == WriteWaitMetric + "_sum").Sum(s => s.Value), samples.Where(s => s.Name == WriteWaitMetric + "_count").Sum(s => s.Value));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private static ServerWriteWait? Difference((double Sum, double Count)? before, (double Sum, double Count)? after)
    {
        if (before is not { } b || after is not { } a)
        {
            return null;
        }

        var rows = a.Count - b.Count;
        var waited = a.Sum - b.Sum;
        return new ServerWriteWait(rows, waited, rows > 0 ? waited * 1000 / rows : 0);
    }
}
