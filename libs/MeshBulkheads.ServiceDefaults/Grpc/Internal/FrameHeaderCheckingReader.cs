using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Grpc.Core;

namespace MeshBulkheads.ServiceDefaults.Grpc.Internal;

/// <summary>
/// Passes the request body through and checks each gRPC frame header as it arrives (1-byte compressed flag, 4-byte
/// big-endian length): a flag other than 0 or 1 throws <c>INTERNAL</c>, a length over <see cref="int.MaxValue"/>
/// <c>RESOURCE_EXHAUSTED</c>, from the read itself, before grpc-dotnet decodes the header (it threw
/// <see cref="InvalidDataException"/> and <see cref="IOException"/> there, answered <c>UNKNOWN</c>).
/// </summary>
/// <remarks>
/// The position of the next header is kept relative to the unconsumed data: each read moves past the headers it can
/// see, each <see cref="AdvanceTo(SequencePosition, SequencePosition)"/> subtracts what the reader consumed. With
/// <c>singleMessage</c> only the first header is checked: grpc-dotnet answers any byte after a unary request's one
/// message "Additional data after the message received." (<c>INTERNAL</c>) without reading a second header.
/// </remarks>
internal sealed class FrameHeaderCheckingReader(PipeReader inner, bool singleMessage) : PipeReader
{
    private const int HeaderSize = 5;

    private ReadOnlySequence<byte> _buffer;
    private long _nextHeader;
    private bool _done;

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        var pending = inner.ReadAsync(cancellationToken);
        if (_done)
        {
            // Past the one header a unary or server-streaming method reads: a plain pass-through.
            return pending;
        }

        if (!pending.IsCompletedSuccessfully)
        {
            return InspectAsync(pending);
        }

        var result = pending.Result;
        try
        {
            Inspect(result.Buffer);
        }
        catch (RpcException e)
        {
            // As an awaited read would: the refusal comes out of the returned task, not out of the call.
            return ValueTask.FromException<ReadResult>(e);
        }

        return new ValueTask<ReadResult>(result);
    }

    public override bool TryRead(out ReadResult result)
    {
        if (!inner.TryRead(out result))
        {
            return false;
        }

        if (!_done)
        {
            Inspect(result.Buffer);
        }

        return true;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        if (!_done)
        {
            _nextHeader -= _buffer.Slice(_buffer.Start, consumed).Length;
        }

        _buffer = default;
        inner.AdvanceTo(consumed, examined);
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

    private async ValueTask<ReadResult> InspectAsync(ValueTask<ReadResult> pending)
    {
        var result = await pending.ConfigureAwait(false);
        Inspect(result.Buffer);
        return result;
    }

    private void Inspect(ReadOnlySequence<byte> buffer)
    {
        _buffer = buffer;
        Span<byte> header = stackalloc byte[HeaderSize];
        while (!_done && _nextHeader + HeaderSize <= buffer.Length)
        {
            buffer.Slice(_nextHeader, HeaderSize).CopyTo(header);
            var flag = header[0];
            var length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
            if (flag > 1 || length > int.MaxValue)
            {
                // Nothing consumed: the read that threw leaves the pipe as it found it.
                _buffer = default;
                inner.AdvanceTo(buffer.Start);
                throw flag > 1
                    ? new RpcException(new Status(StatusCode.Internal, $"{MeshRequestDecoding.InvalidCompressedFlag} {flag}, not 0 (identity) or 1 (compressed)."))
                    : new RpcException(new Status(StatusCode.ResourceExhausted, MeshRequestDecoding.MessageTooLarge));
            }

            _nextHeader += HeaderSize + length;
            _done = singleMessage;
        }
    }
}
