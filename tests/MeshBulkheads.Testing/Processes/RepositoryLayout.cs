namespace MeshBulkheads.Testing.Processes;

/// <summary>Where the repository and the built hosts are, found from the test's own location.</summary>
public static class RepositoryLayout
{
    private const string SolutionFile = "MeshBulkheads.sln";

    /// <summary>The repository root: the nearest folder above the test output holding the solution.</summary>
    public static string Root { get; } = FindRoot(AppContext.BaseDirectory);

    /// <summary>
    /// The built host assembly, <c>artifacts/bin/&lt;Project&gt;/debug/&lt;Project&gt;.dll</c>
    /// (UseArtifactsOutput). The test run uses what <c>make test</c> built: it never builds itself.
    /// </summary>
    public static string HostAssembly(string projectName)
    {
        var path = Path.Combine(Root, "artifacts", "bin", projectName, "debug", projectName + ".dll");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"The host {projectName} is not built: {path} is missing. Run `make build` (or `dotnet build MeshBulkheads.sln`) first.",
                path);
        }

        return path;
    }

    private static string FindRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, SolutionFile)))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No {SolutionFile} found above {start}.");
    }
}
