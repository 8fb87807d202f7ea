using MeshBulkheads.LoadGen.Cli;
using Spectre.Console;

namespace MeshBulkheads.LoadGen.Scraping;

/// <summary><c>meshload watch</c>: the saturation view, refreshed every interval, until Ctrl-C or --duration.</summary>
internal static class WatchCommand
{
    public static async Task<int> RunAsync(ParsedCommand command, MeshLoadIo io, CancellationToken cancellationToken)
    {
        var targets = command.AdminTargets.Count > 0 ? command.AdminTargets : ParsedCommand.DefaultAdminTargets;
        var view = new SaturationView();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (command.Duration is { } duration)
        {
            stop.CancelAfter(duration);
        }

        await using var scraper = MetricsScraper.Start(targets, command.Interval, io.Time, view);
        var live = io.Interactive && !command.NoLive;
        try
        {
            if (live)
            {
                await io.Console.Live(view.Render(targets, 0, 0)).StartAsync(async context =>
                {
                    while (!stop.IsCancellationRequested)
                    {
                        await Task.Delay(command.Interval, io.Time, stop.Token).ConfigureAwait(false);
                        context.UpdateTarget(view.Render(targets, scraper.Dropped, scraper.Failed));
                    }
                }).ConfigureAwait(false);
            }
            else
            {
                while (!stop.IsCancellationRequested)
                {
                    await Task.Delay(command.Interval, io.Time, stop.Token).ConfigureAwait(false);
                    io.Console.Write(view.Render(targets, scraper.Dropped, scraper.Failed));
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        if (!live)
        {
            io.Console.Write(view.Render(targets, scraper.Dropped, scraper.Failed));
        }

        return ExitCodes.Pass;
    }
}
