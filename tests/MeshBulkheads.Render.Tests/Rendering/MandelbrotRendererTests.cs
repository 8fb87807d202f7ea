
namespace MeshBulkheads.Render.Tests.Rendering;

public class MandelbrotRendererTests
{
    [Fact]
    public void Render_SameInputTwice_SamePixelsAndCost()
    {
        // Arrange
        var parameters = new RenderParameters(64, 48, 100);
        var first = new byte[64 * 48 * 3];
        var second = new byte[64 * 48 * 3];

        // Act
        var firstCost = MandelbrotRenderer.Render(parameters, first, CancellationToken.None);
        var secondCost = MandelbrotRenderer.Render(parameters, second, CancellationToken.None);

        // Assert
        Assert.Equal(first, second);
        Assert.Equal(firstCost, secondCost);
        Assert.Contains(first, b => b != 0);
    }

    [Fact]
    public void Render_MorePixelsOrIterations_CostGrows()
    {
        // Arrange
        static long Cost(int width, int height, int iterations) =>
            MandelbrotRenderer.Render(new RenderParameters(width, height, iterations), new byte[width * height * 3], CancellationToken.None);

        // Act
        var small = Cost(64, 64, 100);
        var wider = Cost(128, 64, 100);
        var larger = Cost(128, 128, 100);
        var deeper = Cost(128, 128, 400);

        // Assert
        Assert.True(small < wider, $"{small} < {wider}");
        Assert.True(wider < larger, $"{wider} < {larger}");
        Assert.True(larger < deeper, $"{larger} < {deeper}");
        // Points inside the set run every iteration: quadrupling iterations more than doubles the cost.
        Assert.True(deeper > 2 * larger, $"{deeper} > 2 × {larger}");
    }

    [Fact]
    public void Render_CancelledToken_StopsBeforeFirstRow()
    {
        // Arrange
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        // Act
        var error = Record.Exception(() => MandelbrotRenderer.Render(new RenderParameters(16, 16, 10), new byte[16 * 16 * 3], cts.Token));

        // Assert
        Assert.IsType<OperationCanceledException>(error);
    }
}
