/*
 * report_page.c — the stylesheet and script of `heapsnap report`, and the writers for text from
 * the heap and for bar charts (report_page.h).  The treemap is squarified (Bruls, Huizing, van
 * Wijk): each level lays its children out in rows whose aspect ratios are as close to square as
 * the greedy rule gets, biggest first; every box is a link to the object's page (or, for the
 * aggregate of the smaller objects, no link).  A box's label sits in a band of its own above the
 * boxes inside, tall enough for the font's descenders (an underscore is drawn below the
 * baseline), and is shown only whole: the full label, else the shorter one, else none (the
 * box's tooltip always has it).
 */
#include "report_page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsnap.h"

void hs_report_html(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '&':
			fputs("&amp;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		default:
			fputc(*s, out);
		}
	}
}

void hs_report_json(FILE *out, const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	if (!mem)
		return;
	hs_json_string(mem, s, strlen(s));
	fclose(mem);
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '<')
			fputs("\\u003c", out);
		else
			fputc(buf[i], out);
	}
	free(buf);
}

void hs_report_size(FILE *out, long long bytes)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	int u = 0;
	while (u < 4 && (v >= 1024 || v <= -1024)) {
		v /= 1024;
		u++;
	}
	fprintf(out, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

/* The axis of a chart whose largest value is max: the unit's divisor and name, the tick step
 * in that unit (1, 2 or 5 times a power of ten, about five ticks) and the number of steps. */
struct axis {
	double div, step;
	const char *unit;
	int steps;
};

static struct axis chart_axis(enum hs_report_unit unit, long long max)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB"};
	struct axis a = {.div = 1, .unit = unit == HS_UNIT_BYTES ? "B" : ""};
	for (int i = 1; unit == HS_UNIT_BYTES && i < 4 && (double)max / a.div >= 1024; i++) {
		a.div *= 1024;
		a.unit = units[i];
	}
	double m = (double)max / a.div, raw = m / 5, mag = 1;
	while (mag * 10 <= raw)
		mag *= 10;
	while (mag > raw && mag > 1e-3)
		mag /= 10;
	static const double nice[] = {1, 2, 5, 10};
	a.step = 10 * mag;
	for (int i = 0; i < 4; i++) {
		if (nice[i] * mag >= raw) {
			a.step = nice[i] * mag;
			break;
		}
	}
	if (unit == HS_UNIT_COUNT && a.step < 1)
		a.step = 1;
	a.steps = 1;
	while (a.steps * a.step < m)
		a.steps++;
	return a;
}

enum { CH_W = 640, CH_H = 260, CH_L = 84, CH_R = 620, CH_T = 24, CH_B = 206 };

static void chart_axes(FILE *out, const struct hs_report_chart *c, struct axis a)
{
	double top = a.steps * a.step * a.div;
	fprintf(out,
	        "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
	        "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
	        CH_L, CH_T, CH_L, CH_B, CH_L, CH_B, CH_R, CH_B);
	for (int i = 0; i <= a.steps; i++) {
		double v = i * a.step, y = CH_B - (CH_B - CH_T) * v * a.div / top;
		fprintf(
		    out,
		    "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
		    "<text class=\"tick\" x=\"%d\" y=\"%.1f\" data-value=\"%.0f\" data-y=\"%.1f\">"
		    "%g%s%s</text>\n",
		    CH_L - 4, y, CH_R, y, CH_L - 7, y + 4, v * a.div, y, v, *a.unit ? " " : "",
		    a.unit);
	}
	fprintf(out, "<text class=\"axis-title\" transform=\"translate(16,%d) rotate(-90)\">",
	        (CH_T + CH_B) / 2);
	hs_report_html(out, c->noun);
	if (*a.unit)
		fprintf(out, " (%s)", a.unit);
	fputs("</text>\n", out);
}

void hs_report_bar_chart(FILE *out, const struct hs_report_chart *c)
{
	long long max = 0;
	for (int i = 0; i < c->n; i++)
		if (c->values[i] > max)
			max = c->values[i];
	struct axis a = chart_axis(c->unit, max);
	double top = a.steps * a.step * a.div, w = (double)(CH_R - CH_L) / (c->n ? c->n : 1);
	fputs("<figure class=\"chart\"><figcaption>", out);
	hs_report_html(out, c->title);
	fprintf(out,
	        "</figcaption><svg class=\"chart\" id=\"%s\" width=\"%d\" height=\"%d\" "
	        "data-unit=\"%s\" data-top=\"%.0f\">\n",
	        c->id, CH_W, CH_H, c->unit == HS_UNIT_BYTES ? "bytes" : "count", top);
	chart_axes(out, c, a);
	for (int i = 0; i < c->n; i++) {
		double h = (CH_B - CH_T) * (double)c->values[i] / top, x = CH_L + i * w + w * 0.15;
		fprintf(out,
		        "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
		        "data-value=\"%lld\"><title>",
		        x, CH_B - h, w * 0.7, h, c->values[i]);
		hs_report_html(out, c->labels[i]);
		fprintf(out, ": %lld</title></rect><text class=\"value\" x=\"%.1f\" y=\"%.1f\">",
		        c->values[i], x + w * 0.35, CH_B - h - 4);
		if (c->unit == HS_UNIT_BYTES)
			hs_report_size(out, c->values[i]);
		else
			fprintf(out, "%lld", c->values[i]);
		fprintf(out, "</text><text class=\"xlabel\" x=\"%.1f\" y=\"%d\">", x + w * 0.35,
		        CH_B + 16);
		hs_report_html(out, c->labels[i]);
		fputs("</text>\n", out);
	}
	fputs("</svg></figure>\n", out);
}

const char hs_report_head[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<title>heapsnap report</title>\n"
    "<style>\n"
    "body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}\n"
    "header{background:#234;color:#fff;padding:8px "
    "20px;position:sticky;top:0;z-index:5;display:flex;align-items:center;gap:24px}\n"
    "header h1{margin:0;font-size:18px;flex:1;overflow-wrap:anywhere}\n"
    "#search{font:14px system-ui,sans-serif;padding:4px 8px;width:380px}\n"
    "#search-results{background:#fff;border:1px solid #999;padding:4px 16px;margin-top:12px}\n"
    "#search-results li{margin:3px 0}#search-results code{color:#555}\n"
    "main{padding:0 20px 40px}h2{border-bottom:2px solid #234;margin-top:28px}\n"
    "table{border-collapse:collapse;font-size:12px}td,th{padding:3px 8px;border-bottom:1px solid "
    "#ddd;text-align:left;vertical-align:top}td.n{text-align:right;font-variant-numeric:tabular-"
    "nums}\n"
    ".explain{color:#555;font-style:italic;max-width:1000px}.none{color:#080}\n"
    "tr.more td{font-style:italic;color:#555}\n"
    ".badge{display:inline-block;font-size:11px;font-style:normal;padding:0 "
    "6px;border-radius:3px;margin-left:6px;vertical-align:middle}\n"
    ".badge.garbage{background:#b00;color:#fff}\n"
    "#treemap{position:relative;width:100%;height:520px;background:#fff;border:1px solid #999}\n"
    ".tm-box{position:absolute;box-sizing:border-box;border:1px solid "
    "#fff;overflow:hidden;font:11px/15px system-ui,sans-serif;color:#fff;padding:0 "
    "3px;text-decoration:none}\n"
    ".tm-label{display:block;height:15px;white-space:pre;overflow:hidden}\n"
    ".tm-box:hover,.tm-box:target{outline:2px solid #000;z-index:2}\n"
    "span.bar{background:#3a7;height:14px;display:inline-block;vertical-align:middle}\n"
    ".charts{display:flex;flex-wrap:wrap;gap:0 32px}figure.chart{margin:12px "
    "0}figcaption{font-weight:600;font-size:13px}\n"
    "svg.chart text{font-size:11px;fill:#222}svg.chart .axis{stroke:#333}svg.chart "
    ".grid{stroke:#e4e4e4}\n"
    "svg.chart rect.bar{fill:#c53}svg.chart text.tick{text-anchor:end}svg.chart .xlabel,svg.chart "
    ".value{text-anchor:middle}\n"
    "svg.chart .axis-title{text-anchor:middle;font-weight:600}\n"
    ".obj{display:none;background:#fff;border:1px solid #999;padding:8px 16px;margin-top:16px}\n"
    ".obj:target,.obj.current{display:block}body.page-open main>:not(.obj.current){display:none}\n"
    ".obj .back{font-size:12px}code{word-break:break-all;white-space:pre-wrap}\n"
    "</style></head><body>\n";

const char hs_report_script[] =
    "<script>\n"
    "(function(){\n"
    "var t0=performance.now();\n"
    "var data=JSON.parse(document.getElementById('tree').textContent);\n"
    "var byId={},all=[],root={v:data.total,c:[],l:'heap',t:''};\n"
    "data.nodes.forEach(function(r){var "
    "n={id:r[0],p:r[1],v:r[2],t:r[3],l:r[4],nm:r[5],m:r[6],a:r[7],pg:r[8],path:r[9],g:r[10],c:[]};"
    "byId[n.id]=n;all.push(n);});\n"
    "all.forEach(function(n){if(n.p==-2)return;var p=n.p<0?root:byId[n.p];(p||root).c.push(n);});\n"
    "function other(n){var s=0;n.c.forEach(function(k){s+=k.v;});\n"
    " if(n.c.length&&n.v>s)n.c.push({v:n.v-s,l:'(smaller objects)',t:'',c:[]});\n"
    " n.c.sort(function(a,b){return b.v-a.v;});}\n"
    "other(root);all.forEach(other);\n"
    "/* Control characters as their escapes, so that a name with a newline stays on one line. */\n"
    "function visible(s){return s.replace(/[\\x00-\\x1f\\x7f]/g,function(c){\n"
    " return "
    "c=='\\n'?'\\\\n':c=='\\t'?'\\\\t':c=='\\r'?'\\\\r':'\\\\x'+('0'+c.charCodeAt(0).toString(16))."
    "slice(-2);});}\n"
    "/* [full, short]: \"TYPE NAME\" or \"TYPE LABEL in MODULE\", and NAME or LABEL alone. */\n"
    "function labels(n){var d=n.nm||n.l;\n"
    " return [visible((n.t?n.t+(d?' ':''):'')+d+(!n.nm&&n.m?' in '+n.m:'')),visible(d||n.t)];}\n"
    "function size(b){var u=['B','KiB','MiB','GiB'],i=0;while(b>=1024&&i<3){b/=1024;i++;}\n"
    " return (i?b.toFixed(1):b)+' '+u[i];}\n"
    "var el=document.getElementById('treemap');\n"
    "var colors=['#3a6ea5','#c0504d','#6f8a34','#8064a2','#2f8aa0','#c8661a','#2c4d75',\n"
    "'#772c2a','#5f7530','#4d3b62','#276a7c','#b65708'];\n"
    "var typeColor={},nc=0;\n"
    "function color(t){if(!(t in typeColor))typeColor[t]=colors[nc++%colors.length];return "
    "typeColor[t];}\n"
    "function worst(row,side,total,area){var s=0,mx=0,mn=Infinity;for(var i=0;i<row.length;i++)\n"
    "{var a=row[i].v*area/total;s+=a;if(a>mx)mx=a;if(a<mn)mn=a;}\n"
    "return Math.max(side*side*mx/(s*s),s*s/(side*side*mn));}\n"
    "function layout(kids,x,y,w,h,total,out){var area=w*h,i=0;\n"
    " while(i<kids.length){var side=Math.min(w,h),row=[kids[i]],j=i+1;\n"
    "  "
    "while(j<kids.length&&worst(row.concat([kids[j]]),side,total,area)<=worst(row,side,total,area))"
    "{row.push(kids[j]);j++;}\n"
    "  var s=0;for(var k=0;k<row.length;k++)s+=row[k].v;var frac=s/total;\n"
    "  if(w>=h){var rw=w*frac,yy=y;for(k=0;k<row.length;k++){var "
    "rh=h*row[k].v/s;out.push([row[k],x,yy,rw,rh]);yy+=rh;}x+=rw;w-=rw;}\n"
    "  else{var rh2=h*frac,xx=x;for(k=0;k<row.length;k++){var "
    "cw=w*row[k].v/s;out.push([row[k],xx,y,cw,rh2]);xx+=cw;}y+=rh2;h-=rh2;}\n"
    "  total-=s;area=w*h;i=j;}}\n"
    "/* A box's label band: 1px border and a 15px line, which holds the descenders; the boxes\n"
    " * inside start below it. */\n"
    "var BAND=17,nboxes=0,spans=[];\n"
    "function draw(node,x,y,w,h,depth){\n"
    " var kids=(node.c||[]).filter(function(k){return k.v>0;});\n"
    " if(w<2||h<2)return;\n"
    " if(depth>0){var a=document.createElement(node.pg?'a':'div');a.className='tm-box';\n"
    "  if(node.pg)a.href='#o-'+node.a;if(node.a)a.id='tm-'+node.a;\n"
    "  "
    "a.style.left=x+'px';a.style.top=y+'px';a.style.width=w+'px';a.style.height=h+'px';a.style."
    "background=color(node.t);\n"
    "  var l=labels(node);a.title=l[0]+' \\u2014 '+size(node.v)+' "
    "retained'+(node.path?'\\n'+node.path:'');\n"
    "  if(h>=BAND){var "
    "s=document.createElement('span');s.className='tm-label';s.textContent=l[0];\n"
    "   s.setAttribute('data-full',l[0]);a.appendChild(s);spans.push([s,l[1]]);}\n"
    "  el.appendChild(a);nboxes++;\n"
    "  if(h>2*BAND&&w>30){y+=BAND;h-=BAND+1;x+=2;w-=4;}else return;}\n"
    " if(!kids.length)return;var sum=0;kids.forEach(function(k){sum+=k.v;});\n"
    " var out=[];layout(kids,x,y,w,h,sum,out);\n"
    " out.forEach(function(o){draw(o[0],o[1],o[2],o[3],o[4],depth+1);});}\n"
    "draw(root,0,0,el.clientWidth,el.clientHeight,0);\n"
    "/* A label is shown whole or not at all: the full one, else the short one, else none (the\n"
    " * tooltip has it).  Widths are read in one pass per try, so the page is laid out twice. */\n"
    "var cut=spans.filter(function(p){return p[0].scrollWidth>p[0].clientWidth;});\n"
    "cut.forEach(function(p){p[0].textContent=p[1];});\n"
    "cut.filter(function(p){return "
    "p[0].scrollWidth>p[0].clientWidth;}).forEach(function(p){p[0].textContent='';});\n"
    "function show(){var c=document.querySelectorAll('.obj.current');\n"
    " for(var i=0;i<c.length;i++)c[i].classList.remove('current');\n"
    " var id=decodeURIComponent(location.hash.slice(1));var e=id&&document.getElementById(id);\n"
    " var open=!!(e&&e.classList.contains('obj'));if(open)e.classList.add('current');\n"
    " document.body.classList.toggle('page-open',open);if(open)window.scrollTo(0,0);\n"
    " document.body.setAttribute('data-page',e?id:'');}\n"
    "var input=document.getElementById('search'),res=document.getElementById('search-results');\n"
    "function item(n){var li=document.createElement('li'),a=document.createElement('a');\n"
    " a.href=n.pg?'#o-'+n.a:'#tm-'+n.a;a.textContent=labels(n)[0]+' at '+n.a;li.appendChild(a);\n"
    " li.appendChild(document.createTextNode(' \\u2014 '+size(n.v)+' retained'+(n.g?' "
    "(garbage)':'')+(n.pg?'':' (in the treemap)')));\n"
    " if(n.path){var "
    "c=document.createElement('code');c.textContent=n.path;li.appendChild(document.createElement('"
    "br'));li.appendChild(c);}\n"
    " return li;}\n"
    "/* Objects of this report whose type, name, address or path holds q (any case). */\n"
    "function search(q){res.textContent='';q=q.trim().toLowerCase();\n"
    " if(!q){res.hidden=true;res.removeAttribute('data-count');return;}\n"
    " var hits=all.filter(function(n){return [n.t,n.nm,n.l,n.a,n.path].some(function(s){return "
    "s&&s.toLowerCase().indexOf(q)>=0;});});\n"
    " hits.sort(function(a,b){return b.v-a.v;});\n"
    " var p=document.createElement('p');p.textContent=hits.length+' of the report\\u2019s "
    "'+all.length+' objects match \\u201c'+q+'\\u201d';\n"
    " res.appendChild(p);var "
    "ul=document.createElement('ul');hits.slice(0,50).forEach(function(n){ul.appendChild(item(n));}"
    ");res.appendChild(ul);\n"
    " if(hits.length>50){var "
    "m=document.createElement('p');m.className='more';m.textContent=(hits.length-50)+' "
    "more';res.appendChild(m);}\n"
    " res.setAttribute('data-count',hits.length);res.hidden=false;}\n"
    "input.placeholder='search '+all.length+' objects: type, name, address or path';\n"
    "input.addEventListener('input',function(){search(input.value);history.replaceState(null,'',"
    "input.value?'#q='+encodeURIComponent(input.value):'#');});\n"
    "function "
    "route(){if(location.hash.slice(0,3)=='#q='){input.value=decodeURIComponent(location.hash."
    "slice(3));search(input.value);}else show();}\n"
    "window.addEventListener('hashchange',route);route();\n"
    "/* The browser scrolls to the #fragment after the script: an opened page starts at the top. "
    "*/\n"
    "window.addEventListener('load',function(){if(document.body.classList.contains('page-open'))"
    "window.scrollTo(0,0);});\n"
    "document.body.setAttribute('data-boxes',nboxes);\n"
    "document.body.setAttribute('data-render-ms',Math.round(performance.now()));\n"
    "document.body.setAttribute('data-script-ms',Math.round(performance.now()-t0));\n"
    "})();\n"
    "</script>\n"
    "</body></html>\n";
