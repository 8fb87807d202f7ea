using System.Globalization;
using MeshBulkheads.LoadGen;
using Spectre.Console;

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // First Ctrl-C stops issuing calls and drains; a second one kills the process.
    e.Cancel = !cancel.IsCancellationRequested;
    cancel.Cancel();
};
var interactive = !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
var console = AnsiConsole.Console;
if (Console.IsOutputRedirected)
{
    // A log or a pipe has no width; Spectre's 80-column default would wrap the end table into slivers.
    console.Profile.Width = int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var columns) && columns >= 80 ? columns : 220;
}

var io = new MeshLoadIo(console, Console.Out, Console.Error, TimeProvider.System, Environment.GetEnvironmentVariable, interactive, Console.In);
return await MeshLoadApp.RunAsync(args, io, cancel.Token);
