using MeshBulkheads.LoadGen.Output;

namespace MeshBulkheads.LoadGen.Tests.Output;

public sealed class OutputFileTests
{
    [Fact]
    public async Task WriteAsync_FolderDoesNotExist_CreatesItAndWritesTheFile()
    {
        // Arrange: a report or plot path under folders nobody created (a sweep used to end in DirectoryNotFoundException).
        var root = Path.Combine(Path.GetTempPath(), "meshload-out-" + Guid.NewGuid().ToString("N"));
        var path = Path.Combine(root, "docs", "images", "sweep.svg");
        try
        {
            // Act
            await OutputFile.WriteAsync(path, "<svg/>", TestContext.Current.CancellationToken);

            // Assert
            Assert.Equal("<svg/>", await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken));
        }
        finally
        {
            TempDirectories.TryDelete(root);
        }
    }
}
