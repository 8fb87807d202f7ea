namespace MeshBulkheads.Testing;

/// <summary>The temp directories fixtures create for data, configuration and server files.</summary>
public static class TempDirectories
{
    /// <summary>
    /// Deletes <paramref name="directory"/> and everything in it, if it was created. Best effort: a child
    /// process or a pooled connection may hold a file for a moment after it is told to stop, and a leftover
    /// temp directory is harmless (the OS cleans temp), so a failed cleanup must not fail the test.
    /// </summary>
    public static void TryDelete(string? directory)
    {
        if (directory is null)
        {
            return;
        }

        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
