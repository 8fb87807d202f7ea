using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;

namespace MeshBulkheads.Render.Tests.Rendering;

public class PngEncoderTests
{
    [Fact]
    public void Encode_SmallImage_WritesValidChunksAndScanlines()
    {
        // Arrange
        var rgb = Enumerable.Range(0, 5 * 3 * 3).Select(i => (byte)i).ToArray();

        // Act
        var png = PngEncoder.Encode(5, 3, rgb);

        // Assert
        var chunks = PngTestReader.ReadChunks(png);
        Assert.Equal(["IHDR", "IDAT", "IEND"], chunks.Select(c => c.Type));
        var ihdr = chunks[0].Data;
        Assert.Equal(5, BinaryPrimitives.ReadInt32BigEndian(ihdr));
        Assert.Equal(3, BinaryPrimitives.ReadInt32BigEndian(ihdr.AsSpan(4)));
        Assert.Equal(new byte[] { 8, 2, 0, 0, 0 }, ihdr[8..]);

        using var inflate = new ZLibStream(new MemoryStream(chunks[1].Data), CompressionMode.Decompress);
        using var raw = new MemoryStream();
        inflate.CopyTo(raw);
        var expected = new List<byte>();
        for (var y = 0; y < 3; y++)
        {
            expected.Add(0);
            expected.AddRange(rgb.AsSpan(y * 15, 15).ToArray());
        }

        Assert.Equal(expected, raw.ToArray());
    }
}

/// <summary>Reads PNG chunks and checks each CRC (independently of the encoder's own writing).</summary>
internal static class PngTestReader
{
    public static readonly byte[] Signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public static List<(string Type, byte[] Data)> ReadChunks(byte[] png)
    {
        Assert.Equal(Signature, png[..8]);
        var chunks = new List<(string, byte[])>();
        var offset = 8;
        while (offset < png.Length)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(offset));
            var typeAndData = png.AsSpan(offset + 4, 4 + length);
            var crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(offset + 8 + length));
            Assert.Equal(Crc32.HashToUInt32(typeAndData), crc);
            chunks.Add((System.Text.Encoding.ASCII.GetString(typeAndData[..4]), typeAndData[4..].ToArray()));
            offset += 12 + length;
        }

        Assert.Equal(png.Length, offset);
        return chunks;
    }
}
