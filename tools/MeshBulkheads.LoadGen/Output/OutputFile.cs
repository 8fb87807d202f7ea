namespace MeshBulkheads.LoadGen.Output;

/// <summary>Writes a report or plot the user named, creating its folder (a run must not end in an unhandled exception after its load).</summary>
internal static class OutputFile
{
    /// <summary>Writes <paramref name="contents"/> to <paramref name="path"/>, creating the parent folders first.</summary>
    public static async Task WriteAsync(string path, string contents, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        await File.WriteAllTextAsync(path, contents, cancellationToken).ConfigureAwait(false);
    }
}
