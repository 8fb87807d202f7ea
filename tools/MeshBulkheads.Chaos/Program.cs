using System.Runtime.InteropServices;
using MeshBulkheads.Chaos;

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl-C interrupts the run; its rollbacks still run before the process exits.
    e.Cancel = true;
    stop.Cancel();
};
using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    stop.Cancel();
});
return await ChaosApp.RunAsync(args, Console.Out, Console.Error, stop.Token);
