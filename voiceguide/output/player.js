"use strict";
// The session player: what is shown is read off the session's timeline at the audio element's
// current time, never from a clock of its own.
(() => {
  const timeline = JSON.parse(document.getElementById("timeline-data").textContent);
  const page = JSON.parse(document.getElementById("page-data").textContent);
  const labels = page.labels;
  const events = timeline.events;
  const total = timeline.total;
  const media = page.media;
  const chapters = page.chapters;
  const element = (id) => document.getElementById(id);
  const player = element("player");
  const audio = element("audio");
  /** The phases whose length the plan sets: counted down to the cue that ends them. */
  const TIMED = new Set(["lead-in", "hold", "work", "step", "reset", "rest", "switch", "transition"]);
  const EPSILON = 0.0005; // (half a millisecond: the timeline counts whole ones)

  /** The index of the last item of *list* (in order of .start) starting at or before *t*. */
  function indexAt(list, t) {
    let low = 0;
    let high = list.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (list[middle].start <= t + EPSILON) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  /** The timed interval (a hold, a work interval, a step) going on at *t*, if any. */
  function intervalAt(t) {
    const intervals = timeline.intervals;
    if (!intervals.length) return null;
    const interval = intervals[indexAt(intervals, t)];
    return interval.start <= t + EPSILON && t + EPSILON < interval.end ? interval : null;
  }

  // The parts of the session: each run of events of one phase, and each timed interval (a hold,
  // a work interval, a step) on its own. A part is where its last event is: a rest belongs to
  // the rep it leads to, a switch to the side it leads to.
  const parts = (() => {
    const cuts = new Set([0]);
    events.forEach((event, i) => {
      if (i > 0 && event.phase !== events[i - 1].phase) cuts.add(event.start);
    });
    for (const interval of timeline.intervals) {
      cuts.add(interval.start);
      cuts.add(interval.end);
    }
    const starts = [...cuts].filter((t) => t < total).sort((a, b) => a - b);
    return starts.map((start, i) => {
      const end = i + 1 < starts.length ? starts[i + 1] : total;
      const first = events[indexAt(events, start)];
      const last = events[indexAt(events, end - 2 * EPSILON)];
      return { start, end, phase: first.phase, where: last, interval: intervalAt(start) };
    });
  })();

  const repsOf = new Map();
  const setsOf = new Map();
  for (const event of events) {
    if (event.rep != null) {
      const key = JSON.stringify([event.exercise, event.set, event.side]);
      repsOf.set(key, Math.max(repsOf.get(key) || 0, event.rep));
    }
    if (event.set != null) setsOf.set(event.exercise, Math.max(setsOf.get(event.exercise) || 0, event.set));
  }

  function clockText(seconds) {
    const whole = Math.max(0, Math.floor(seconds + EPSILON));
    const h = Math.floor(whole / 3600);
    const m = Math.floor((whole % 3600) / 60);
    const s = String(whole % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
  }

  function countdownText(remaining) {
    const seconds = Math.max(0, Math.ceil(remaining - EPSILON));
    return seconds < 60 ? String(seconds) : clockText(seconds);
  }

  function partLabel(part) {
    if (part.phase === "intro") return labels.intro;
    if (part.phase === "outro") return labels.outro;
    if (part.phase === "step") return part.interval ? part.interval.name : "";
    return labels[part.phase.replace("-", "_")] || part.phase;
  }

  function whereItems(where) {
    const items = [];
    if (where.round != null) items.push([labels.round, `${where.round}/${where.rounds}`]);
    if (where.set != null) items.push([labels.set, `${where.set}/${setsOf.get(where.exercise)}`]);
    if (where.side != null) items.push([labels.side, where.side]);
    if (where.rep != null) {
      const reps = repsOf.get(JSON.stringify([where.exercise, where.set, where.side]));
      if (reps > 1) items.push([labels.rep, `${where.rep}/${reps}`]);
    }
    return items;
  }

  function comingAfter(index) {
    const part = parts[index];
    const next = parts[index + 1];
    if (!next) return "";
    if (next.phase === "outro") return labels.outro;
    if (next.where.exercise !== part.where.exercise) return next.where.exercise || "";
    const side = next.where.side != null && next.where.side !== part.where.side;
    return side ? `${partLabel(next)} \u00b7 ${next.where.side}` : partLabel(next);
  }

  // --- The audio: one file, or the parts of a split session one after another.
  let current = 0;
  function now() {
    return Math.min(total, media[current].start + (audio.currentTime || 0));
  }

  function seek(t) {
    const target = Math.min(Math.max(t, 0), total);
    const index = indexAt(media, target);
    const offset = target - media[index].start;
    if (index !== current) {
      const playing = !audio.paused;
      current = index;
      audio.src = media[index].src;
      audio.addEventListener(
        "loadedmetadata",
        () => {
          audio.currentTime = offset;
          if (playing) play();
        },
        { once: true },
      );
    } else {
      audio.currentTime = offset;
    }
    render();
  }

  function play() {
    audio.play().catch(() => {});
  }

  function toggle() {
    if (audio.paused) play();
    else audio.pause();
  }

  function chapterIndexAt(t) {
    return indexAt(chapters, Math.min(t, total - EPSILON));
  }

  function nextSection() {
    const index = chapterIndexAt(now());
    if (index + 1 < chapters.length) seek(chapters[index + 1].start);
  }

  function previousSection() {
    // As music players do: back to the start of this section, or, near its start, to the one before.
    const t = now();
    const index = chapterIndexAt(t);
    const back = t - chapters[index].start < 3 && index > 0 ? index - 1 : index;
    seek(chapters[back].start);
  }

  // --- What is shown.
  const chapterButtons = chapters.map((chapter) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    const title = document.createElement("span");
    title.textContent = chapter.title;
    const at = document.createElement("span");
    at.className = "at";
    at.textContent = clockText(chapter.start);
    button.append(title, at);
    button.addEventListener("click", () => seek(chapter.start));
    item.append(button);
    element("chapters").append(item);
    return button;
  });

  const position = element("position");
  position.max = String(total);
  const shown = {};
  function show(id, text) {
    if (shown[id] !== text) {
      element(id).textContent = text;
      shown[id] = text;
    }
  }

  function render() {
    const t = now();
    const index = indexAt(parts, Math.min(t, total - EPSILON));
    const part = parts[index];
    const where = part.where;
    show("part", partLabel(part));
    show("exercise", where.exercise || timeline.title);
    const items = whereItems(where);
    const itemsText = JSON.stringify(items);
    if (shown.where !== itemsText) {
      element("where").replaceChildren(
        ...items.map(([label, value]) => {
          const item = document.createElement("span");
          const name = document.createElement("span");
          name.className = "label";
          name.textContent = label;
          const text = document.createElement("b");
          text.textContent = value;
          item.append(name, " ", text);
          return item;
        }),
      );
      shown.where = itemsText;
    }
    const timed = TIMED.has(part.phase);
    element("timer").hidden = !timed;
    show("countdown", timed ? countdownText(part.end - t) : "");
    let cue = null;
    for (let i = indexAt(events, t); i >= 0 && events[i].start >= part.start - EPSILON; i--) {
      if (events[i].kind === "speech") {
        cue = events[i];
        break;
      }
    }
    show("cue", cue ? cue.text : "");
    element("cue").classList.toggle("said", Boolean(cue) && t >= cue.end);
    const coming = comingAfter(index);
    element("coming").hidden = !coming;
    show("next", coming);
    if (document.activeElement !== position) position.value = String(t);
    const clock = `${clockText(t)} / ${clockText(total)}`;
    position.setAttribute("aria-valuetext", clock);
    show("clock", clock);
    const chapter = chapterIndexAt(t);
    chapterButtons.forEach((button, i) => {
      if (i === chapter) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    });
    player.dataset.position = t.toFixed(3);
  }

  let frame = 0;
  function everyFrame() {
    render();
    frame = audio.paused ? 0 : requestAnimationFrame(everyFrame);
  }

  // --- Keeping the screen on while playing, where the browser allows it.
  let wakeLock = null;
  async function keepAwake() {
    if (!("wakeLock" in navigator)) {
      player.dataset.wakeLock = "unavailable";
      return;
    }
    if (wakeLock || audio.paused || document.visibilityState !== "visible") return;
    try {
      wakeLock = await navigator.wakeLock.request("screen");
      player.dataset.wakeLock = "held";
      wakeLock.addEventListener("release", () => {
        wakeLock = null;
        player.dataset.wakeLock = "released";
      });
    } catch (error) {
      player.dataset.wakeLock = "refused";
    }
  }
  function letSleep() {
    if (wakeLock) wakeLock.release().catch(() => {});
  }
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") keepAwake();
  });

  function showState() {
    const playing = !audio.paused;
    player.dataset.state = playing ? "playing" : "paused";
    const button = element("play");
    button.setAttribute("aria-label", playing ? button.dataset.pause : button.dataset.play);
    button.title = button.getAttribute("aria-label");
  }

  audio.addEventListener("play", () => {
    showState();
    keepAwake();
    if (!frame) frame = requestAnimationFrame(everyFrame);
  });
  audio.addEventListener("pause", () => {
    showState();
    letSleep();
    render();
  });
  audio.addEventListener("ended", () => {
    if (current + 1 < media.length) {
      current += 1;
      audio.src = media[current].src;
      play();
    } else {
      showState();
      letSleep();
      render();
    }
  });
  for (const name of ["seeked", "timeupdate", "loadedmetadata"]) audio.addEventListener(name, render);
  audio.addEventListener("error", () => {
    element("problem").hidden = false;
  });

  element("play").addEventListener("click", toggle);
  element("next-section").addEventListener("click", nextSection);
  element("previous").addEventListener("click", previousSection);
  position.addEventListener("input", () => seek(Number(position.value)));

  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented) return;
    const target = event.target;
    const onControl = target instanceof HTMLButtonElement || target instanceof HTMLInputElement;
    if (event.key === " " && !onControl) {
      event.preventDefault();
      toggle();
    } else if (event.key === "ArrowRight" && target !== position) {
      event.preventDefault();
      nextSection();
    } else if (event.key === "ArrowLeft" && target !== position) {
      event.preventDefault();
      previousSection();
    }
  });

  if ("mediaSession" in navigator) {
    try {
      navigator.mediaSession.metadata = new MediaMetadata({ title: timeline.title, artist: "voiceguide" });
      navigator.mediaSession.setActionHandler("play", play);
      navigator.mediaSession.setActionHandler("pause", () => audio.pause());
      navigator.mediaSession.setActionHandler("previoustrack", previousSection);
      navigator.mediaSession.setActionHandler("nexttrack", nextSection);
    } catch (error) {
      // (a browser without one of these actions: the page's own buttons still work)
    }
  }

  showState();
  render();
})();
