# Throughput (images/s) and p95 latency vs concurrency for guidance 5 and 1, with the raw engine
# limits as dashed lines. Called by render_benchmarks.py with -e "datafile=...; outfile=...;
# limit5=...; limit1=..." (columns: concurrency, img/s g5, p95 g5, img/s g1, p95 g1).
set terminal pngcairo size 1100,450 font "sans,10"
set output outfile
set multiplot layout 1,2
set logscale x 2
set grid
set key bottom right
set xlabel "concurrent streams"
set title "throughput"
set ylabel "images / s"
set yrange [0:*]
plot datafile using 1:2 with linespoints lw 2 pt 7 title "guidance 5", \
     datafile using 1:4 with linespoints lw 2 pt 5 title "guidance 1", \
     limit5 with lines dt 2 lc 1 title "raw limit, guidance 5", \
     limit1 with lines dt 2 lc 2 title "raw limit, guidance 1"
set title "p95 latency"
set key top left
set ylabel "seconds"
plot datafile using 1:3 with linespoints lw 2 pt 7 title "guidance 5", \
     datafile using 1:5 with linespoints lw 2 pt 5 title "guidance 1"
unset multiplot
