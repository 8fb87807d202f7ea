namespace MeshBulkheads.Testing;

/// <summary>Finds the repository root (the folder holding MeshBulkheads.sln) from the test's output folder.</summary>
public static class RepositoryRoot
{
    public static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "MeshBulkheads.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"MeshBulkheads.sln not found above {AppContext.BaseDirectory}.");
    }
}
