using System.Net;
using System.Net.Sockets;

namespace MeshBulkheads.EndToEnd.Tests.AppHost;

/// <summary>
/// Picks a <c>MeshBulkheads:PortOffset</c> for the AppHost under test whose eight ports are free,
/// so the test can run beside a <c>make run</c> (offset 0) and other test runs.
/// </summary>
internal static class PortOffset
{
    // Ports 8080+offset .. 9083+offset stay below Linux's ephemeral range (32768+), where port-0
    // listeners of parallel tests land.
    private const int Min = 2000;
    private const int Max = 23000;
    private static readonly int[] BasePorts = [8080, 9080, 8081, 9081, 8082, 9082, 8083, 9083];

    public static int FindFree()
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var offset = Random.Shared.Next(Min, Max);
            if (BasePorts.All(p => IsFree(p + offset)))
            {
                return offset;
            }
        }

        throw new InvalidOperationException("No free port offset found for the AppHost in 50 attempts.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
