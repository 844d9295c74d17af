#!/bin/sh
# make-sample-video.sh makes the project's own sample video, the film that
# `shardcast demo` publishes: 15 s of a test pattern with a burnt-in
# timestamp and a 440 Hz tone, VP9/Opus WebM, 640x360, about 650 KB.
#
# Usage: scripts/make-sample-video.sh [OUT]   (default cmd/shardcast/internal/demo/sample.webm)
# Needs ffmpeg with libvpx-vp9 and libopus (apt-get install -y ffmpeg). If no
# font works for drawtext, the timestamp is left out.
set -eu

out=${1:-cmd/shardcast/internal/demo/sample.webm}
font=""
for f in /usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf \
	/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf \
	/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf; do
	if [ -f "$f" ]; then
		font=$f
		break
	fi
done

video="testsrc2=size=640x360:rate=30:duration=15"
if [ -n "$font" ]; then
	stamp="$video,drawtext=fontfile=$font:text='shardcast sample  %{pts\\:hms}':x=20:y=h-th-20:fontsize=28:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=8"
	if ffmpeg -hide_banner -loglevel error -f lavfi -i "$stamp" -frames:v 1 -f null - 2>/dev/null; then
		video=$stamp
	else
		echo "drawtext does not work here: no timestamp" >&2
	fi
else
	echo "no font found: no timestamp" >&2
fi

ffmpeg -hide_banner -loglevel error -y \
	-f lavfi -i "$video" \
	-f lavfi -i "sine=frequency=440:sample_rate=48000:duration=15" \
	-c:v libvpx-vp9 -b:v 300k -deadline good -cpu-used 4 -row-mt 1 -g 60 \
	-c:a libopus -b:a 64k -shortest \
	-metadata title="shardcast sample" \
	"$out"
ls -l "$out"
