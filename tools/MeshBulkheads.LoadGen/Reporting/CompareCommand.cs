using MeshBulkheads.LoadGen.Cli;
using MeshBulkheads.LoadGen.Output;
using Spectre.Console;

namespace MeshBulkheads.LoadGen.Reporting;

/// <summary><c>meshload compare a.json b.json [--report out.html]</c>: runs side by side, in the terminal and in one HTML file.</summary>
internal static class CompareCommand
{
    public static async Task<int> RunAsync(ParsedCommand command, MeshLoadIo io, CancellationToken cancellationToken)
    {
        var runs = RunComparison.Load(command.CompareFiles);
        var rows = RunComparison.Rows(runs);
        var table = new Table { Title = new TableTitle("meshload compare: " + Markup.Escape(string.Join(" vs ", runs.Select(r => r.Label)))), Border = TableBorder.Rounded };
        table.AddColumn("figure");
        foreach (var run in runs)
        {
            table.AddColumn(new TableColumn(Markup.Escape(run.Label)) { Alignment = Justify.Right });
        }

        foreach (var row in rows)
        {
            table.AddRow([Markup.Escape(row.Figure), .. row.Values.Select(Markup.Escape)]);
        }

        table.Caption = new TableTitle("latency: OK calls, from the intended send time · shed: rejected with a reason (pushback) · queue figures: the processes' /metrics scraped during each run");
        io.Console.Write(table);
        if (command.ReportPath is not null)
        {
            await OutputFile.WriteAsync(command.ReportPath, HtmlReport.RenderComparison(runs, rows), cancellationToken).ConfigureAwait(false);
            io.Error.WriteLine($"meshload: report written to {command.ReportPath}");
        }

        return ExitCodes.Pass;
    }
}
