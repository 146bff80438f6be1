using System;
using System.IO;
using FormatGen.Runtime;
using Xunit;

namespace FormatGen.Tests;

/// <summary>
/// FgSource.CopyTo into an FgOutput: octets moved without being parsed, by
/// every route (file to file inside the kernel when pages line up, through the
/// output's buffer otherwise, from a pipe), always the same octets, and a
/// short input a truncated error naming the field.
/// </summary>
public sealed class CopyToTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("formatgen-copy-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Noise(int n)
    {
        var b = new byte[n];
        new Random(n).NextBytes(b);
        return b;
    }

    /// <summary>Copies <paramref name="count"/> octets from <paramref name="from"/> after writing <paramref name="header"/> octets of output first.</summary>
    private (byte[] Output, long Direct) Copy(Stream input, int from, int header, long count, Func<string, Stream> open)
    {
        var path = Path.Combine(_dir, "out" + Guid.NewGuid().ToString("N"));
        long direct;
        using (var file = open(path))
        {
            using var source = new FgSource(input, mapFiles: false, readSize: 32 << 10);
            using var output = new FgOutput(file);
            source.Skip(from, "lead");
            output.Write(new byte[header]);
            source.CopyTo(output, count, "pages");
            output.Write(new byte[] { 0xEE });
            direct = output.CopiedDirectly;
        }
        return (File.ReadAllBytes(path), direct);
    }

    private static Stream NewFile(string path) => new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);

    [Theory]
    [InlineData(100, 100, true)]     // same offset within a page: file to file in the kernel
    [InlineData(4096 + 12, 12, true)]
    [InlineData(12, 100, false)]     // shifted: through the buffer, written where the output's pieces end
    [InlineData(0, 0, true)]
    public void Octets_go_from_file_to_file_by_the_cheaper_route(int from, int header, bool inKernel)
    {
        var data = Noise(3 << 20);
        var input = Path.Combine(_dir, "in");
        File.WriteAllBytes(input, data);
        long count = data.Length - from - 7;
        using var fs = new FileStream(input, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        var (output, direct) = Copy(fs, from, header, count, NewFile);
        Assert.Equal(header + count + 1, output.Length);
        Assert.True(data.AsSpan(from, (int)count).SequenceEqual(output.AsSpan(header, (int)count)));
        Assert.Equal(0xEE, output[^1]);
        if (OperatingSystem.IsLinux()) Assert.Equal(inKernel, direct > 0);
        // The input's position follows the copy.
        Assert.Equal(from + count, fs.Position);
    }

    [Fact]
    public void From_a_pipe_and_into_a_stream_the_octets_are_the_same()
    {
        var data = Noise(1 << 20);
        var pipe = new Streams.Pipe(data, 4093);
        var ms = new MemoryStream();
        using (var source = new FgSource(pipe, mapFiles: false))
        using (var output = new FgOutput(ms))
        {
            source.Skip(5, "lead");
            output.Write(new byte[3]);
            source.CopyTo(output, data.Length - 10, "pages");
        }
        Assert.True(data.AsSpan(5, data.Length - 10).SequenceEqual(ms.ToArray().AsSpan(3)));
    }

    [Fact]
    public void A_short_input_is_a_truncated_error_naming_the_field()
    {
        var data = Noise(100_000);
        var input = Path.Combine(_dir, "short");
        File.WriteAllBytes(input, data);
        foreach (var from in new[] { 0, 100 })
        {
            using var fs = new FileStream(input, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
            var e = Assert.Throws<FgException>(() => Copy(fs, from, from, 200_000, NewFile));
            Assert.Equal("truncated", e.Rule);
            Assert.Equal("pages", e.FieldPath);
        }
        var e2 = Assert.Throws<FgException>(() => Copy(new Streams.Pipe(data, 1000), 0, 0, 200_000, NewFile));
        Assert.Equal("truncated", e2.Rule);
    }
}
