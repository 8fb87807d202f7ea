using System.Buffers;
using System.IO.Pipelines;
using MeshBulkheads.ServiceDefaults.Grpc.Internal;

namespace MeshBulkheads.ServiceDefaults.Tests.Grpc;

/// <summary>The frame-header check grpc-dotnet reads a gRPC method's body through (issue 15, K1).</summary>
public sealed class FrameHeaderCheckingReaderTests
{
    [Fact]
    public async Task ReadAsync_ValidFramesSplitAcrossWrites_PassedThroughUnchanged()
    {
        // Arrange: two frames, the second header split between writes.
        var pipe = new Pipe();
        var reader = new FrameHeaderCheckingReader(pipe.Reader, singleMessage: false);
        byte[] body = [0, 0, 0, 0, 2, 0x08, 0x01, 1, 0, 0, 0, 1, 0x08];

        // Act
        await pipe.Writer.WriteAsync(body.AsMemory(0, 9), TestContext.Current.CancellationToken);
        var first = await reader.ReadAsync(TestContext.Current.CancellationToken).AsTask().DefaultTimeout();
        reader.AdvanceTo(first.Buffer.GetPosition(7), first.Buffer.End);
        await pipe.Writer.WriteAsync(body.AsMemory(9), TestContext.Current.CancellationToken);
        await pipe.Writer.CompleteAsync();
        var second = await reader.ReadAsync(TestContext.Current.CancellationToken).AsTask().DefaultTimeout();

        // Assert
        Assert.Equal(body[7..], second.Buffer.ToArray());
        Assert.True(second.IsCompleted);
    }

    [Theory]
    [InlineData(false, 2u, StatusCode.Internal)]
    [InlineData(false, 0xFFFFFFFFu, StatusCode.ResourceExhausted)]
    [InlineData(true, 2u, null)]
    public async Task ReadAsync_SecondFrameHeaderBroken_ThrowsOnlyWhenTheMethodStreams(bool singleMessage, uint flagOrLength, StatusCode? expected)
    {
        // Arrange: a valid first frame, then a second whose flag (2) or length (0xFFFFFFFF) cannot be decoded.
        var pipe = new Pipe();
        var reader = new FrameHeaderCheckingReader(pipe.Reader, singleMessage);
        byte[] second = flagOrLength == 2 ? [2, 0, 0, 0, 1, 0x08] : [0, 0xFF, 0xFF, 0xFF, 0xFF];
        await pipe.Writer.WriteAsync(new byte[] { 0, 0, 0, 0, 2, 0x08, 0x01 }, TestContext.Current.CancellationToken);
        var first = await reader.ReadAsync(TestContext.Current.CancellationToken).AsTask().DefaultTimeout();
        reader.AdvanceTo(first.Buffer.End);
        await pipe.Writer.WriteAsync(second, TestContext.Current.CancellationToken);

        // Act
        var read = reader.ReadAsync(TestContext.Current.CancellationToken).AsTask();
        var thrown = await Record.ExceptionAsync(() => read.DefaultTimeout());

        // Assert
        Assert.Equal(expected, (thrown as RpcException)?.StatusCode);
        if (expected is null)
        {
            // A unary method reads one message: what follows is grpc-dotnet's "Additional data" (INTERNAL), unread here.
            Assert.Null(thrown);
            Assert.Equal(second, (await read).Buffer.ToArray());
        }
    }
}
