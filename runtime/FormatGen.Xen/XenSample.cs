using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Threading;
using FormatGen.Runtime;
using FormatGen.Xen.Libxc;
using LibxlRecord = FormatGen.Xen.Libxl.Record;

namespace FormatGen.Xen;

/// <summary>
/// Writes what <see cref="LibxcSample"/> describes, with the generated
/// writers of every layer: the libxc stream alone, or inside a libxl stream
/// (LIBXC_CONTEXT, then the emulator records of an HVM guest and END), or
/// inside an xl save file (the xl header with a JSON domain configuration
/// first), plain or checkpointed (rounds of memory ended by CHECKPOINT, the
/// emulator records and CHECKPOINT_END), as <c>xl save</c> and <c>xl remus</c> send them.
/// </summary>
internal static class XenSample
{
    /// <summary>The pages each round sends: all of memory first, then a sixteenth of it (dirty pages) per checkpoint.</summary>
    public static IEnumerable<(long Start, long Count)> Rounds(SampleOptions o)
    {
        var m = LibxcSample.Memory.Of(o);
        yield return (0, m.Pages);
        long dirty = Math.Max(1, m.Pages / 16);
        for (int round = 2; round <= o.Checkpoints; round++)
        {
            // Different pages each round, always within memory.
            long start = (round - 1) * dirty % Math.Max(1, m.Pages - dirty + 1);
            yield return (start, Math.Min(dirty, m.Pages));
        }
    }

    public static void Write(Stream output, SampleOptions o, bool withPages, CancellationToken cancel)
    {
        FormatGen.Xen.Libxl.LibxlStreamWriter? libxl = null;
        if (o.Wrap == SampleWrap.Xl) WriteXlHeader(output, o);
        if (o.Wrap != SampleWrap.None)
        {
            libxl = new FormatGen.Xen.Libxl.LibxlStreamWriter(output, new FormatGen.Xen.Libxl.Header { Options = o.BigEndian ? 1u : 0u });
            libxl.Write(LibxlOf(FormatGen.Xen.Libxl.RecordType.LibxcContext, new FormatGen.Xen.Libxl.EmptyBody()));
        }
        var libxc = new LibxcStreamWriter(output, LibxcSample.ImageHeaderOf(o), LibxcSample.DomainHeaderOf(o));
        void Libxc(IRecordBody body)
        {
            cancel.ThrowIfCancellationRequested();
            libxc.Write(new Record { Body = body });
        }

        foreach (var body in LibxcSample.Prologue(o)) Libxc(body);
        foreach (var (start, count) in Rounds(o))
        {
            if (withPages) foreach (var body in LibxcSample.Pages(o, start, count)) Libxc(body);
            foreach (var body in LibxcSample.Epilogue(o)) Libxc(body);
            if (o.Checkpoints == 0) break;
            // A checkpoint: libxc pauses, libxl sends the emulator's state and ends the checkpoint.
            Libxc(new Checkpoint());
            foreach (var r in Emulator(o)) libxl!.Write(r);
            libxl!.Write(LibxlOf(FormatGen.Xen.Libxl.RecordType.CheckpointEnd, new FormatGen.Xen.Libxl.EmptyBody()));
        }
        Libxc(new End());
        if (libxl is null) return;
        if (o.Checkpoints == 0) foreach (var r in Emulator(o)) libxl.Write(r);
        libxl.Write(LibxlOf(FormatGen.Xen.Libxl.RecordType.End, new FormatGen.Xen.Libxl.EmptyBody()));
    }

    private static LibxlRecord LibxlOf(FormatGen.Xen.Libxl.RecordType type, Libxl.IRecordBody body) => new() { Type = type, Body = body };

    /// <summary>An HVM guest's device model: its xenstore keys (the VGA RAM's physmap entry) and its saved state.</summary>
    private static IEnumerable<LibxlRecord> Emulator(SampleOptions o)
    {
        if (o.Guest != GuestKind.Hvm) yield break;
        var qemu = new FormatGen.Xen.Libxl.EmulatorHeader { EmulatorId = FormatGen.Xen.Libxl.EmulatorId.QemuUpstream, Index = 0 };
        yield return LibxlOf(FormatGen.Xen.Libxl.RecordType.EmulatorXenstoreData, new FormatGen.Xen.Libxl.EmulatorXenstoreData
        {
            Emulator = qemu,
            Strings = new[]
            {
                "physmap/f0000000/start_addr", "f0000000",
                "physmap/f0000000/size", "800000",
                "physmap/f0000000/name", "vga.vram",
            },
        });
        // QEMU's migration stream starts "QEVM" and its version.
        var state = LibxcSample.Filled(4096, 0x42);
        "QEVM\0\0\0\u0003"u8.CopyTo(state);
        yield return LibxlOf(FormatGen.Xen.Libxl.RecordType.EmulatorContext, new FormatGen.Xen.Libxl.EmulatorContext { Emulator = qemu, State = state });
    }

    /// <summary>The xl header: magic, byte order, v2 stream with a JSON configuration, as xl of Xen 4.19 writes it.</summary>
    private static void WriteXlHeader(Stream output, SampleOptions o)
    {
        var config = Config(o);
        var xl = new Xl.Xl
        {
            ByteOrder = o.BigEndian ? new byte[] { 1, 2, 3, 4 } : new byte[] { 4, 3, 2, 1 },
            Header = new Xl.Header
            {
                MandatoryFlags = 3, // JSON configuration, libxl (v2) stream
                OptionalData = new Xl.OptionalData { ConfigLen = (uint)System.Text.Encoding.UTF8.GetByteCount(config) + 1, Config = config },
            },
        };
        // The header alone: the libxl stream it hands off to follows from the writers above.
        var measure = FgWriter.Measure(true);
        measure.StopAtHandoff = true;
        xl.WriteCore(ref measure);
        var bytes = new byte[measure.Position];
        var w = new FgWriter(bytes, true) { StopAtHandoff = true };
        xl.WriteCore(ref w);
        output.Write(bytes);
    }

    /// <summary>The domain configuration in libxl's JSON, as xl saves it.</summary>
    public static string Config(SampleOptions o)
    {
        bool hvm = o.Guest == GuestKind.Hvm;
        long kib = o.MemoryBytes >> 10;
        return string.Create(CultureInfo.InvariantCulture, $$"""
            {
                "c_info": {
                    "type": "{{(hvm ? "hvm" : "pv")}}",
                    "name": "sample-{{(hvm ? "hvm" : "pv")}}",
                    "uuid": "4a0e2d6c-3b7f-4c1e-9d55-8e2f1a6b7c90"
                },
                "b_info": {
                    "max_vcpus": {{o.Vcpus}},
                    "avail_vcpus": [{{string.Join(", ", Range(o.Vcpus))}}],
                    "max_memkb": {{kib}},
                    "target_memkb": {{kib}},
                    "type.{{(hvm ? "hvm" : "pv")}}": {{(hvm ? "{ \"firmware\": \"bios\", \"vga\": { \"kind\": \"std\" } }" : "{ \"bootloader\": \"pygrub\" }")}}
                },
                "disks": [
                    { "pdev_path": "/var/lib/xen/images/sample.img", "vdev": "xvda", "format": "raw", "readwrite": 1 }
                ],
                "nics": [
                    { "devid": 0, "mac": "00:16:3e:5a:6b:7c", "bridge": "xenbr0" }
                ],
                "on_reboot": "restart"
            }

            """);
    }

    private static IEnumerable<int> Range(int n)
    {
        for (int i = 0; i < n; i++) yield return i;
    }
}
