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

    /// <summary>
    /// A loopback port nothing listens on now, below the kernel's ephemeral range (<c>net.ipv4.ip_local_port_range</c>,
    /// 32768–60999 by default) and never handed out twice by this process; the host binds it a moment later and keeps
    /// it across restarts. (Not the OS's choice of port 0: that port is in the ephemeral range, where any outgoing
    /// connection can take it before the host binds — a CI run saw the gateway's port 37031 refuse meshload.)
    /// </summary>
    public static int FreePort()
    {
        var low = EphemeralRangeStart();
        for (var attempt = 0; attempt < 500; attempt++)
        {
            var candidate = Random.Shared.Next(20000, low);
            lock (Handed)
            {
                if (Handed.Contains(candidate) || !IsFree(candidate))
                {
                    continue;
                }

                Handed.Add(candidate);
                return candidate;
            }
        }

        throw new InvalidOperationException($"no free loopback port in 20000-{low - 1} after 500 tries");
    }

    private static readonly HashSet<int> Handed = [];

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int EphemeralRangeStart()
    {
        try
        {
            var first = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[0];
            return Math.Max(20001, int.Parse(first, System.Globalization.CultureInfo.InvariantCulture));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return 32768;
        }
    }
}
