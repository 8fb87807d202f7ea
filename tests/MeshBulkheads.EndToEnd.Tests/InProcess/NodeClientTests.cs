using System.Diagnostics;

namespace MeshBulkheads.EndToEnd.Tests.InProcess;

/// <summary>
/// A client written in another language (clients/node, @grpc/grpc-js) using only the protos and the
/// README's contract exercises every method through the gateway.
/// </summary>
[Collection(InProcessMeshCollection.Name)]
public class NodeClientTests(InProcessMesh mesh)
{
    [Fact]
    public async Task NodeClient_EveryMethodThroughGateway_AllChecksPass()
    {
        // Arrange
        var root = RepositoryLayout.Root;
        var clientDir = Path.Combine(root, "clients", "node");
        var node = ServerRequirement.FindExecutable("node");
        if (node is null || !Directory.Exists(Path.Combine(clientDir, "node_modules", "@grpc")))
        {
            ServerRequirement.Unavailable("node and clients/node/node_modules are needed (make test runs npm ci there)");
            return;
        }

        var target = $"{mesh.Gateway.Endpoints.Grpc.Host}:{mesh.Gateway.Endpoints.Grpc.Port}";
        var start = new ProcessStartInfo(node, ["smoke.mjs", target, DemoTenants.AcmeKey])
        {
            WorkingDirectory = clientDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };

        // Act
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        try
        {
            await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        // Assert
        var output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, output);
        Assert.Contains("all checks passed", output, StringComparison.Ordinal);
        Assert.DoesNotContain("FAIL", output, StringComparison.Ordinal);
    }
}
