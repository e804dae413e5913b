# The scaling figure of docs/performance.md from timely_scaling_bench's CSV:
#   gnuplot -e "csv='scaling_events.csv'; out='docs/figures/scaling_events.png'" bench/scaling_plot.gp
# Left: events/s against n for both models, beside the machine's anchors measured by the
# same run (the pointer chase's accesses/s = 1/DRAM latency, and the independent random
# reads' accesses/s = memory-level parallelism). Right: peak resident memory of one trial.
if (!exists("csv")) csv = 'scaling_events.csv'
if (!exists("out")) out = 'docs/figures/scaling_events.png'
anchor(key) = real(system(sprintf("awk -F, '/^# %s,/{print $2}' %s", key, csv)))
chase = anchor("chase_accesses_per_s")
mlp = anchor("mlp_accesses_per_s")
latency = anchor("dram_latency_ns")

set terminal pngcairo size 1400,560 font ",11"
set output out
set datafile separator ","
set datafile commentschars "#"
set key top right box opaque
set logscale xy
set format x "10^{%L}"
set grid xtics ytics mxtics mytics lw 0.5 lc rgb "#dddddd"
set xrange [500:2e8]
set xlabel "users n"
# Okabe-Ito colours (plots/style): source model blue, users model vermilion, anchors grey.
src(c) = strcol(1) eq "source" ? column(c) : NaN
usr(c) = strcol(1) eq "users" ? column(c) : NaN

set multiplot layout 1,2 title "timely: one thread, complete graph, uniform gossip (users model: K = 16 tracked sources)"
set ylabel "events / s"
set yrange [5e5:3e8]
set format y "10^{%L}"
plot csv skip 1 using 2:(src(4)) with linespoints lw 2 pt 7 lc rgb "#0072B2" title "source model", \
     csv skip 1 using 2:(usr(4)) with linespoints lw 2 pt 5 lc rgb "#D55E00" title "users model (K = 16)", \
     mlp with lines dt 2 lw 2 lc rgb "#009E73" title sprintf("MLP: independent random reads, %.0f M/s", mlp / 1e6), \
     chase with lines dt 4 lw 2 lc rgb "#555555" title sprintf("DRAM latency %.0f ns: dependent reads, %.1f M/s", latency, chase / 1e6)
set ylabel "peak resident memory of one trial (MB)"
set yrange [1:2e4]
set format y "10^{%L}"
plot csv skip 1 using 2:(src(7)) with linespoints lw 2 pt 7 lc rgb "#0072B2" title "source model", \
     csv skip 1 using 2:(usr(7)) with linespoints lw 2 pt 5 lc rgb "#D55E00" title "users model (K = 16)"
unset multiplot
