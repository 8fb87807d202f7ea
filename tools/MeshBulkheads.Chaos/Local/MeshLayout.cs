using System.Net;
using System.Net.Sockets;

namespace MeshBulkheads.Chaos.Local;

/// <summary>Where the built hosts are, and free loopback ports for them.</summary>
internal static class MeshLayout
{
    public const string Gateway = "MeshBulkheads.Gateway";
    public const string Payments = "MeshBulkheads.Payments";
    public const string Reporting = "MeshBulkheads.Reporting";
    public const string Render = "MeshBulkheads.Render";
    public const string LoadGen = "MeshBulkheads.LoadGen";

    /// <summary>The repository root: the nearest folder above <paramref name="start"/> with MeshBulkheads.sln.</summary>
    public static string FindRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "MeshBulkheads.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no MeshBulkheads.sln above {start}: run meshchaos from the repository (make chaos)");
    }

    /// <summary><c>artifacts/bin/&lt;project&gt;/&lt;configuration&gt;/&lt;project&gt;.dll</c> (UseArtifactsOutput); it must be built.</summary>
    public static string Assembly(string root, string project, string configuration)
    {
        var path = Path.Combine(root, "artifacts", "bin", project, configuration.ToLowerInvariant(), project + ".dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"{project} is not built ({path}): make chaos builds it; or dotnet build -c {configuration}", path);
    }

    /// <summary>A loopback port free now (the OS's choice); the host binds it a moment later and keeps it across restarts.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
