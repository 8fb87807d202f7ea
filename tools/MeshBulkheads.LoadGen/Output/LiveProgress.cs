using System.Globalization;
using MeshBulkheads.LoadGen.Running;
using Spectre.Console;

namespace MeshBulkheads.LoadGen.Output;

/// <summary>
/// Per-second progress: a live Spectre table on a terminal, else one plain line per stream per
/// second on stderr (CI logs, <c>--json</c> on stdout).
/// </summary>
internal sealed class LiveProgress(IAnsiConsole console, TextWriter lines, bool live) : IRunObserver
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Totals> _totals = new(StringComparer.Ordinal);
    private TimeSpan _elapsed;

    public void OnInterval(TimeSpan elapsed, IReadOnlyList<(StreamStats Stats, IntervalSample Sample)> samples)
    {
        lock (_lock)
        {
            _elapsed = elapsed;
            foreach (var (stats, sample) in samples)
            {
                // Closed-loop numbers hide queueing: the label travels with every line and row.
                var name = stats.Spec.IsClosedLoop ? $"{stats.Spec.Name} (CLOSED loop, c={stats.Spec.Concurrency})" : stats.Spec.Name;
                var totals = _totals.TryGetValue(name, out var t) ? t : new Totals();
                totals.Rate = sample.Offered;
                totals.Ok += sample.OkCount;
                foreach (var (key, n) in sample.NotOk)
                {
                    if (key.StartsWith("DEADLINE_EXCEEDED", StringComparison.Ordinal))
                    {
                        totals.Deadline += n;
                    }
                    else if (key.Contains('/', StringComparison.Ordinal))
                    {
                        totals.Shed += n;
                    }
                    else
                    {
                        totals.Errors += n;
                    }
                }

                totals.P99 = sample.RunningP99Ms;
                _totals[name] = totals;
                if (!live)
                {
                    lines.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"t={elapsed.TotalSeconds:0}s {name}: {sample.Offered:0.#}/s ok {totals.Ok} shed {totals.Shed} deadline {totals.Deadline} errors {totals.Errors} p99 {(totals.P99 is { } p ? p.ToString("0.0", CultureInfo.InvariantCulture) + "ms" : "-")}"));
                }
            }
        }
    }

    /// <summary>Shows the live table until <paramref name="work"/> completes (a no-op when not live).</summary>
    public async Task<T> ShowAsync<T>(Task<T> work, TimeProvider time)
    {
        if (!live)
        {
            return await work.ConfigureAwait(false);
        }

        await console.Live(Render()).AutoClear(true).StartAsync(async context =>
        {
            while (!work.IsCompleted)
            {
                await Task.WhenAny(work, Task.Delay(TimeSpan.FromMilliseconds(500), time)).ConfigureAwait(false);
                context.UpdateTarget(Render());
            }
        }).ConfigureAwait(false);
        return await work.ConfigureAwait(false);
    }

    private Table Render()
    {
        var table = new Table { Border = TableBorder.Simple };
        table.AddColumns("stream", "rate/s", "ok", "shed", "deadline", "errors", "p99 so far");
        lock (_lock)
        {
            table.Title = new TableTitle($"t = {_elapsed.TotalSeconds:0}s");
            foreach (var (name, t) in _totals)
            {
                table.AddRow(
                    Markup.Escape(name),
                    t.Rate.ToString("0.#", CultureInfo.InvariantCulture),
                    $"[green]{t.Ok}[/]",
                    t.Shed == 0 ? "0" : $"[yellow]{t.Shed}[/]",
                    t.Deadline == 0 ? "0" : $"[red]{t.Deadline}[/]",
                    t.Errors == 0 ? "0" : $"[red]{t.Errors}[/]",
                    t.P99 is { } p ? p.ToString("0.0", CultureInfo.InvariantCulture) + "ms" : "-");
            }
        }

        return table;
    }

    private sealed class Totals
    {
        public double Rate { get; set; }

        public long Ok { get; set; }

        public long Shed { get; set; }

        public long Deadline { get; set; }

        public long Errors { get; set; }

        public double? P99 { get; set; }
    }
}
