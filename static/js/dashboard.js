// 数据看板: draws the charts from the figures the page embeds (#dashboard-data), with the vendored ECharts.
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || typeof echarts === "undefined") return;
  var data = JSON.parse(source.textContent);
  var colours = ["#1f5fa8", "#d9822b", "#2e8b57", "#c0392b", "#7d5ba6", "#4aa3a2", "#b8860b", "#5d6d7e"];
  var charts = [];

  function draw(id, option) {
    var el = document.getElementById(id);
    if (!el) return;
    // Room for every wrapped name: a list of long names on a phone needs a taller chart.
    if (option.minHeight && el.clientHeight < option.minHeight) el.style.height = option.minHeight + "px";
    delete option.minHeight;
    var chart = echarts.init(el, null, { renderer: "svg" });
    option.color = colours;
    option.textStyle = { fontFamily: "inherit" };
    chart.setOption(option);
    charts.push(chart);
  }

  function labelNonZero(p) { return p.value ? String(p.value) : ""; }

  // A category name wraps onto further lines rather than being cut ("脱…" told nobody anything). The
  // lines are made here: ECharts' own overflow wrapping is measured after containLabel has reserved
  // the space of the unwrapped name, so long names ("预警线索超过48小时未核实") were clipped at the left.
  var narrow = window.innerWidth < 720;
  var perLine = narrow ? 7 : 9;
  function wrap(name) {
    var chars = Array.from(String(name)), lines = [];
    for (var i = 0; i < chars.length; i += perLine) lines.push(chars.slice(i, i + perLine).join(""));
    return lines.join("\n");
  }
  function bars(names, series, horizontal) {
    var category = {
      type: "category", data: names,
      axisLabel: { interval: 0, formatter: wrap, lineHeight: 14 },
    };
    var value = { type: "value", minInterval: 1 };
    var lines = Math.max.apply(null, names.map(function (n) { return Math.ceil(Array.from(String(n)).length / perLine); }).concat([1]));
    return {
      minHeight: horizontal ? names.length * Math.max(lines * 16 + 8, 24 * series.length + 8) + 60 : 0,
      tooltip: { trigger: "axis" },
      legend: series.length > 1 ? { top: 0 } : undefined,
      grid: { left: 8, right: 28, top: series.length > 1 ? 32 : 12, bottom: 8, containLabel: true },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? Object.assign({}, category, { inverse: true }) : value,
      series: series.map(function (s) {
        return {
          name: s.name, type: "bar", data: s.data, barMaxWidth: 24,
          label: { show: true, position: horizontal ? "right" : "top" },
        };
      }),
    };
  }

  draw("chart-types", {
    tooltip: { trigger: "item", formatter: "{b}：{c} 户（{d}%）" },
    legend: { bottom: 0 },
    series: [{
      type: "pie", radius: ["35%", "62%"], center: ["50%", "45%"],
      // A type with no household has no slice (its label would sit on top of its neighbour's).
      data: data.types.filter(function (t) { return t.value > 0; }),
      label: { formatter: "{b}：{c} 户", width: narrow ? 70 : 120, overflow: "break" },
    }],
  });
  draw("chart-risks", bars(data.risks.map(function (r) { return r.name; }),
    [{ name: "户数", data: data.risks.map(function (r) { return r.value; }) }], true));
  draw("chart-trend", {
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: data.trend.months },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: "新识别", type: "line", data: data.trend["new"], label: { show: true, formatter: labelNonZero } },
      { name: "风险消除", type: "line", data: data.trend.eliminated, label: { show: true, formatter: labelNonZero } },
    ],
  });
  draw("chart-departments", bars(data.departments.names, [
    { name: "推送", data: data.departments.raised },
    { name: "待核实", data: data.departments.open },
    { name: "已逾期", data: data.departments.overdue },
  ], true));
  draw("chart-todos", bars(data.todos.map(function (t) { return t.name; }),
    [{ name: "件数", data: data.todos.map(function (t) { return t.value; }) }], true));

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
